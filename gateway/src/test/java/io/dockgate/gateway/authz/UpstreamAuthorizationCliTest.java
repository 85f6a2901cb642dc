package io.dockgate.gateway.authz;

/**
 * The docker CLI's authorization and tenancy scenarios against dockgate in upstream mode, guarding a
 * private dockerd 20.10: the same identities and policy, the same answers.
 */
@AuthzFixtureTest.UpstreamMode
class UpstreamAuthorizationCliTest extends AuthorizationCliTest {
}

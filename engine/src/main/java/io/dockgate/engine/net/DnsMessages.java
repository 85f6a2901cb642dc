package io.dockgate.engine.net;

import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * The little of RFC 1035 the embedded DNS needs: a query's one question read from its bytes, and an
 * answer written for it (A records, NOERROR without records, NXDOMAIN, SERVFAIL). Queries it does not
 * answer are relayed to the upstream resolvers byte for byte, which is why the bytes are kept rather than
 * decoded into objects and encoded again.
 */
final class DnsMessages {
    static final int TYPE_A = 1;
    static final int TYPE_AAAA = 28;
    static final int CLASS_IN = 1;
    static final int RCODE_NOERROR = 0;
    static final int RCODE_SERVFAIL = 2;
    static final int RCODE_NXDOMAIN = 3;
    static final int RCODE_FORMERR = 1;
    static final int TTL = 600;

    private DnsMessages() {
    }

    /** A query's header and question; the question's bytes end at {@code questionEnd}. */
    record Question(int id, int flags, String name, int type, int qclass, int questionEnd) {
        boolean recursionDesired() {
            return (flags & 0x0100) != 0;
        }
    }

    /** The one question of a standard query, or null when the message is not one (a response, several questions, garbage). */
    static Question parse(byte[] message, int length) {
        if (length < 12) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(message, 0, length);
        int id = b.getShort(0) & 0xffff;
        int flags = b.getShort(2) & 0xffff;
        int qd = b.getShort(4) & 0xffff;
        boolean isQuery = (flags & 0x8000) == 0;
        int opcode = (flags >> 11) & 0xf;
        if (!isQuery || opcode != 0 || qd != 1) {
            return null;
        }
        StringBuilder name = new StringBuilder();
        int pos = 12;
        while (true) {
            if (pos >= length) {
                return null;
            }
            int len = message[pos] & 0xff;
            if (len == 0) {
                pos++;
                break;
            }
            if ((len & 0xc0) != 0 || pos + 1 + len > length || name.length() + len > 253) {
                return null; // compression pointers have no place in a question; names are at most 253 bytes
            }
            if (name.length() > 0) {
                name.append('.');
            }
            name.append(new String(message, pos + 1, len, StandardCharsets.ISO_8859_1));
            pos += 1 + len;
        }
        if (pos + 4 > length) {
            return null;
        }
        int type = b.getShort(pos) & 0xffff;
        int qclass = b.getShort(pos + 2) & 0xffff;
        return new Question(id, flags, name.toString().toLowerCase(Locale.ROOT), type, qclass, pos + 4);
    }

    /** An answer to the question: the question echoed, then one A record per address (a pointer to the question's name). */
    static byte[] answer(byte[] query, Question q, int rcode, List<Inet4Address> addresses) {
        int answers = addresses.size();
        ByteBuffer out = ByteBuffer.allocate(q.questionEnd() + answers * 16);
        out.putShort((short) q.id());
        int flags = 0x8000 | 0x0400 /* authoritative */ | (q.flags() & 0x0100) /* RD echoed */ | 0x0080 /* RA */ | (rcode & 0xf);
        out.putShort((short) flags);
        out.putShort((short) 1).putShort((short) answers).putShort((short) 0).putShort((short) 0);
        out.put(query, 12, q.questionEnd() - 12);
        for (Inet4Address a : addresses) {
            out.putShort((short) 0xc00c).putShort((short) TYPE_A).putShort((short) CLASS_IN).putInt(TTL).putShort((short) 4)
                    .put(a.getAddress());
        }
        return out.array();
    }

    /** A bare error answer for a message whose question could not be read (FORMERR), or for a failure (SERVFAIL). */
    static byte[] failure(byte[] query, int length, int rcode) {
        Question q = parse(query, length);
        if (q != null) {
            return answer(query, q, rcode, List.of());
        }
        ByteBuffer out = ByteBuffer.allocate(12);
        out.putShort(length >= 2 ? ByteBuffer.wrap(query, 0, 2).getShort() : 0);
        out.putShort((short) (0x8000 | 0x0080 | rcode));
        return out.array();
    }
}

package io.dockgate.engine.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Dockerfile's lines and words as the classic builder reads them. */
class DockerfileTest {
    @Test
    void directivesContinuationsCommentsFlagsAndForms() {
        Dockerfile f = Dockerfile.parse("""
                # escape=`
                # syntax=docker/dockerfile:1
                FROM --platform=linux/amd64 busybox AS base
                # a comment
                RUN echo one `
                # inside a continuation
                    && echo two
                copy --chown=1:2 ["a b", "/dst/"]
                CMD echo "not json
                """);
        assertThat(f.escape()).isEqualTo('`');
        List<Dockerfile.Instruction> in = f.instructions();
        assertThat(in).extracting(Dockerfile.Instruction::keyword).containsExactly("FROM", "RUN", "COPY", "CMD");
        assertThat(in.get(0).flags()).containsEntry("platform", "linux/amd64");
        assertThat(in.get(0).args()).isEqualTo("busybox AS base");
        assertThat(in.get(1).args()).isEqualTo("echo one && echo two");
        assertThat(in.get(2).flags()).containsEntry("chown", "1:2");
        assertThat(in.get(2).json()).containsExactly("a b", "/dst/");
        assertThat(in.get(3).execForm()).isFalse();
        assertThat(in.get(1).line()).isEqualTo(5);
    }

    @Test
    void wordsQuotesEscapesAndVariables() {
        Map<String, String> env = Map.of("A", "x y", "EMPTY", "");
        ShellLex lex = new ShellLex('\\', env::get);
        assertThat(lex.words("a 'b $A' \"c $A\" d\\ e $A")).containsExactly("a", "b $A", "c x y", "d e", "x", "y");
        assertThat(lex.word("${A}-${UNSET:-dflt}-${EMPTY:-e}-${EMPTY-e}-${A:+alt}-${UNSET+alt}-$")).isEqualTo("x y-dflt-e--alt--$");
        assertThat(lex.word("\\$A")).isEqualTo("$A");
        assertThatThrownBy(() -> lex.word("${UNSET:?must be set}")).hasMessageContaining("UNSET: must be set");
        assertThatThrownBy(() -> lex.word("'open")).hasMessageContaining("matching single-quote");
        assertThatThrownBy(() -> lex.word("${A")).hasMessageContaining("missing '}'");
    }

    @Test
    void keyValuesInBothForms() {
        ShellLex lex = new ShellLex('\\', Map.of("V", "1")::get);
        Dockerfile.Instruction env = Dockerfile.parse("FROM x\nENV A=\"two words\" B=$V C=x\\ y\n").instructions().get(1);
        assertThat(Dockerfile.keyValues(env, '\\', lex)).extracting(Map.Entry::getValue).containsExactly("two words", "1", "x y");
        Dockerfile.Instruction old = Dockerfile.parse("FROM x\nENV NAME the rest of it\n").instructions().get(1);
        assertThat(Dockerfile.keyValues(old, '\\', lex)).containsExactly(Map.entry("NAME", "the rest of it"));
    }

    @Test
    void whatTheClassicBuilderCannotReadIsRefused() {
        assertThatThrownBy(() -> Dockerfile.parse("FROM x\nFROBNICATE y\n")).hasMessageContaining("unknown instruction: FROBNICATE");
        assertThatThrownBy(() -> Dockerfile.parse("# only a comment\n")).hasMessageContaining("cannot be empty");
        assertThatThrownBy(() -> Dockerfile.parse("# escape=x\nFROM y\n")).hasMessageContaining("invalid escape token");
        assertThatThrownBy(() -> Dockerfile.parse("FROM x\nRUN <<EOF\nhi\nEOF\n")).hasMessageContaining("heredocs require BuildKit");
        assertThatThrownBy(() -> Instructions.duration("5x")).hasMessageContaining("invalid duration");
        assertThat(Instructions.duration("1m30s")).isEqualTo(90_000_000_000L);
        assertThat(Instructions.ports("8000-8002/udp")).containsExactly("8000/udp", "8001/udp", "8002/udp");
    }
}

package io.dockgate.engine.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.build.Dockerfile;
import io.dockgate.engine.build.ShellLex;
import java.util.Map;

/**
 * The Dockerfile parser and the shell lexer under a coverage-guided fuzzer: any text either parses (and
 * every instruction's words expand) or fails with the engine's 400; never another exception, never a hang.
 */
class DockerfileFuzzTest {
    @FuzzTest(maxDuration = "40s")
    void dockerfiles(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        try {
            Dockerfile file = Dockerfile.parse(text);
            ShellLex lex = new ShellLex(file.escape(), Map.of("A", "x", "EMPTY", "")::get);
            for (Dockerfile.Instruction in : file.instructions()) {
                lex.words(in.args());
                lex.word(in.args());
            }
        } catch (EngineException e) {
            // refused with a message: fine
        }
    }
}

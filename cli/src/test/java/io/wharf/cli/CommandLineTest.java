package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

class CommandLineTest {

    private static void assertHelpEverywhere(CommandLine command) {
        assertThat(command.getCommandSpec().findOption("--help")).as("%s --help", command.getCommandSpec().qualifiedName()).isNotNull();
        command.getSubcommands().values().forEach(CommandLineTest::assertHelpEverywhere);
    }

    @Test
    void shouldOfferHelpOnEveryCommand() {
        assertHelpEverywhere(Wharf.commandLine());
    }

    @Test
    void shouldPrintABashCompletionThatKnowsTheCommandsAndTheirOptions() {
        CommandLine wharf = Wharf.commandLine();
        StringWriter out = new StringWriter();
        String script = picocli.AutoComplete.bash("wharf", wharf);
        assertThat(script).contains("deploy").contains("--max-concurrency").contains("schedule").contains("completion");
        assertThat(wharf.setErr(new PrintWriter(out)).execute("completion", "fish")).isEqualTo(2);
        assertThat(out.toString()).contains("shell 'fish'");
    }
}

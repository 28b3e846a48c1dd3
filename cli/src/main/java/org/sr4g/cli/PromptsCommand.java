package org.sr4g.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.sr4g.UserInputException;
import org.sr4g.evaluation.Sr2dPrompts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code sr4g prompts sr2d}: writes VISOR's SR2D prompt set (docs/evaluation.md). */
@Command(
    name = "prompts",
    mixinStandardHelpOptions = true,
    header = "Write a standard prompt set (sr2d: VISOR's SR2D, 31,680 prompts).",
    description = "Writes a standard prompt set. 'sr2d' is VISOR's text_spatial_rel_phrases.json in the order of"
        + " VISOR's create_spatial_phrases.py: 31,680 prompts = 25,280 spatial (80x79 ordered COCO pairs x 4"
        + " relations) + 6,320 'A and B' + 80 single objects; unique_id = list index. See docs/evaluation.md.",
    footer = {"", "Example:", "  sr4g prompts sr2d --out text_spatial_rel_phrases.json"})
final class PromptsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SET", description = "prompt set: sr2d") String set;
  @Option(names = "--out", required = true, paramLabel = "FILE") Path out;

  @Override
  public Integer call() throws IOException {
    if (!set.equals("sr2d")) throw new UserInputException("unknown prompt set '" + set + "' (known: sr2d)");
    Sr2dPrompts.write(out);
    spec.commandLine().getOut().println("wrote " + Sr2dPrompts.TOTAL + " prompts to " + out);
    spec.commandLine().getOut().flush();
    return 0;
  }
}

package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.IllegalFormatException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code --help} of every command and subcommand: no picocli formatting problem (an unescaped {@code %} made
 * {@code sr4g eval --help} print a warning), every option that has a default says it, example lines fit the help's
 * width (so none wraps mid-command) and no {@code ${…}} variable is left unresolved.
 */
class HelpTest {
  /** Commands other helpers are reworking at the time of writing (issue 12): checked for warnings only. */
  private static final Set<String> OWNED_ELSEWHERE = Set.of("sr4g train", "sr4g generate");

  static List<CommandLine> all(CommandLine cl) {
    List<CommandLine> r = new ArrayList<>();
    r.add(cl);
    for (CommandLine sub : cl.getSubcommands().values())
      if (!r.contains(sub) && !sub.getCommandName().equals("help")) r.addAll(all(sub));
    return r;
  }

  private static List<String> commandNames() {
    List<String> names = new ArrayList<>();
    for (CommandLine c : all(Sr4g.commandLine())) names.add(c.getCommandSpec().qualifiedName());
    return names;
  }

  @Test
  void everyHelpRendersWithoutWarnings() {
    List<String> names = commandNames();
    assertTrue(names.size() > 15, "all commands found: " + names);
    for (String name : names) {
      String[] args = (name.substring("sr4g".length()).strip() + " --help").strip().split(" ");
      CliRun r = CliRun.of(args);
      assertEquals(0, r.code(), name + ": " + r.err());
      assertFalse(r.err().contains("WARN"), name + " --help printed a warning: " + r.err());
      assertTrue(r.out().contains("Usage:"), name);
      assertFalse(r.out().contains("${"), name + ": unresolved variable in\n" + r.out());
    }
  }

  @Test
  void everyTextIsAValidFormatString() {
    // picocli formats every header, description and footer line (String.format): a lone % fails there.
    for (CommandLine c : all(Sr4g.commandLine())) {
      CommandSpec s = c.getCommandSpec();
      List<String> texts = new ArrayList<>();
      texts.addAll(List.of(s.usageMessage().header()));
      texts.addAll(List.of(s.usageMessage().description()));
      texts.addAll(List.of(s.usageMessage().footer()));
      for (OptionSpec o : s.options()) texts.addAll(List.of(o.description()));
      for (String t : texts) {
        try {
          String.format(Locale.ROOT, t);
        } catch (IllegalFormatException e) {
          throw new AssertionError(s.qualifiedName() + ": not a valid format string (escape % as %%): " + t, e);
        }
      }
    }
  }

  @Test
  void everyOptionWithADefaultShowsIt() {
    List<String> missing = new ArrayList<>();
    for (CommandLine c : all(Sr4g.commandLine())) {
      CommandSpec s = c.getCommandSpec();
      if (OWNED_ELSEWHERE.contains(s.qualifiedName())) continue;
      for (OptionSpec o : s.options()) {
        if (o.usageHelp() || o.versionHelp() || o.arity().max() == 0) continue; // flags: off unless given
        boolean hasDefault = o.defaultValue() != null
            || (o.initialValue() != null && !(o.initialValue() instanceof java.util.Collection<?>));
        String text = String.join(" ", o.description());
        if (hasDefault && !text.contains("${DEFAULT-VALUE}") && !text.toLowerCase(Locale.ROOT).contains("default"))
          missing.add(s.qualifiedName() + " " + o.longestName());
      }
    }
    assertEquals(List.of(), missing, "options whose help does not say their default");
  }

  @Test
  void examplesFitTheHelpWidth() {
    List<String> tooLong = new ArrayList<>();
    for (CommandLine c : all(Sr4g.commandLine())) {
      CommandSpec s = c.getCommandSpec();
      if (OWNED_ELSEWHERE.contains(s.qualifiedName())) continue;
      int width = s.usageMessage().width();
      for (String line : s.usageMessage().footer()) // example lines are indented; prose may wrap
        if (line.startsWith(" ") && String.format(Locale.ROOT, line).length() > width)
          tooLong.add(s.qualifiedName() + ": " + line);
    }
    assertEquals(List.of(), tooLong, "footer lines picocli would wrap (split them with a \\ continuation)");
  }

  @Test
  void aBadValueIsOneLineWithExitTwo() {
    CliRun r = CliRun.of("eval", "--format", "xml", "--prompts", "p.jsonl", "--detections", "d.jsonl");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("sr4g eval: error: Invalid value for option '--format'"), r.err());
    assertFalse(r.err().contains("Usage:"), r.err());
    r = CliRun.of("convert", "--model", "m", "--out", "o", "--dtype", "f64");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("unknown dtype 'f64' (f32, f16 or bf16)"), r.err());
  }

  @Test
  void buildingOnlyTheNamedSubcommandChangesNoOutputAndNoExitCode() {
    List<String[]> cases = new ArrayList<>();
    for (String name : commandNames()) { // every command's help, lazily built when args[0] names a subcommand
      cases.add((name.substring("sr4g".length()).strip() + " --help").strip().split(" "));
    }
    cases.add(new String[] {"--version"});
    cases.add(new String[] {"-V"});
    cases.add(new String[] {});
    cases.add(new String[] {"help"});
    cases.add(new String[] {"help", "generate"});
    cases.add(new String[] {"genrate"}); // picocli's suggestions need the whole tree
    cases.add(new String[] {"--version", "generate"});
    cases.add(new String[] {"generate", "--bogus"});
    cases.add(new String[] {"generate", "--emit", "two"});
    cases.add(new String[] {"generate", "--version"});
    cases.add(new String[] {"eval", "synth", "--images", "x"});
    cases.add(new String[] {"eval", "--format", "xml", "--prompts", "p.jsonl", "--detections", "d.jsonl"});
    cases.add(new String[] {"bench"});
    for (String[] args : cases) {
      String what = String.join(" ", args);
      assertEquals(CliRun.of(a -> Sr4g.commandLine().execute(a), args), CliRun.of(args), what);
      int built = Sr4g.commandLine(args).getSubcommands().size();
      boolean namesOne = args.length > 0 && !args[0].equals("help") && !args[0].startsWith("-") && !args[0].equals("genrate");
      boolean versionOnly = args.length == 1 && args[0].startsWith("-V") || what.equals("--version");
      assertEquals(namesOne ? 1 : versionOnly ? 0 : Sr4g.SUBCOMMANDS.size(), built, what);
    }
  }
}

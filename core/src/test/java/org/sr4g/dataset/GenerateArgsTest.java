package org.sr4g.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.sr4g.relations.Relation;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The generation options as both commands see them: parsed once, defaults in the help, mistakes named. */
class GenerateArgsTest {
  @Command(name = "cmd", showDefaultValues = true, mixinStandardHelpOptions = true)
  static final class Cmd implements Runnable {
    @Mixin GenerateArgs generation;

    @Override
    public void run() {}
  }

  private static GenerateArgs parse(String... args) {
    Cmd c = new Cmd();
    new CommandLine(c).parseArgs(args);
    return c.generation;
  }

  @Test
  void defaultsAreGeneratesDefaults() {
    GenerateOptions o = parse().options(1, false);
    GenerateOptions d = GenerateOptions.defaults();
    assertEquals(d.emitAll(), o.emitAll());
    assertEquals(d.relationMask(), o.relationMask());
    assertEquals(d.sameCategory(), o.sameCategory());
    assertEquals(d.minArea(), o.minArea());
    assertEquals(d.maxObjects(), o.maxObjects());
    assertEquals(d.seed(), o.seed());
    assertEquals(d.unseenFraction(), o.unseenFraction());
    assertNull(o.unseenCategories());
  }

  @Test
  void valuesArrive() {
    GenerateOptions o = parse("--emit", "ALL", "--relations", "left of,above", "--same-category", "--min-area", "0.01",
        "--max-objects", "9", "--seed", "7", "--unseen-fraction", "0.5").options(3, true);
    assertTrue(o.emitAll());
    assertEquals(Relation.LEFT_OF.bit() | Relation.ABOVE.bit(), o.relationMask());
    assertTrue(o.sameCategory());
    assertEquals(0.01f, o.minArea());
    assertEquals(9, o.maxObjects());
    assertEquals(7, o.seed());
    assertEquals(0.5, o.unseenFraction());
    assertEquals(3, o.threads());
    assertTrue(o.lenient());
  }

  @Test
  void aWrongEmitNamesBothValues() {
    CommandLine.ParameterException e =
        assertThrows(CommandLine.ParameterException.class, () -> parse("--emit", "some"));
    assertEquals("Invalid value for option '--emit': must be 'one' or 'all', not 'some'", e.getMessage());
  }

  @Test
  void helpShowsEveryDefault() {
    StringWriter sw = new StringWriter();
    new CommandLine(new Cmd()).usage(new PrintWriter(sw));
    String help = sw.toString();
    for (String d : new String[] {"Default: one", "Default: all", "Default: 0.2", "Default: 0"}) {
      assertTrue(help.contains(d), d + " in\n" + help);
    }
    assertFalse(help.contains("Default: null"), help);
  }
}

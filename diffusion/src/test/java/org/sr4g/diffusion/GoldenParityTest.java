package org.sr4g.diffusion;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The golden parity harness: one dynamic test per fixture of the golden directory ({@code $SR4G_GOLDEN_DIR}, default
 * {@code ../shared/golden}), named after the fixture, dispatched by kind to a {@link GoldenChecker}. A fixture whose kind
 * has no checker yet is skipped with that reason, or fails when {@code -Dsr4g.golden.strict=true}.
 *
 * <p>Fixtures: every sidecar {@code <name>.json} with a {@code fixture} field, plus {@code tokenizer} when
 * {@code tokenizer_cases.jsonl} is present (it has no sidecar).
 */
class GoldenParityTest {
  static final String TOKENIZER_CASES = "tokenizer_cases.jsonl";

  @TestFactory
  Stream<DynamicTest> everyGoldenFixture() {
    Path dir = GoldenFixture.goldenDir();
    Map<String, GoldenChecker> checkers = GoldenCheckers.discover();
    boolean strict = Boolean.getBoolean("sr4g.golden.strict");
    List<DynamicTest> tests = new ArrayList<>();
    List<String> names = new ArrayList<>(GoldenFixture.discover(dir));
    if (Files.exists(dir.resolve(TOKENIZER_CASES))) names.add("tokenizer");
    assertFalse(names.isEmpty(), "no golden fixtures in " + dir);
    for (String name : names) {
      tests.add(DynamicTest.dynamicTest(name, () -> {
        try (GoldenFixture fixture = name.equals("tokenizer") && !Files.exists(dir.resolve("tokenizer.json"))
            ? GoldenFixture.withoutSidecar(dir, name, "tokenizer")
            : GoldenFixture.load(dir, name)) {
          GoldenChecker checker = checkers.get(fixture.kind());
          if (checker == null) {
            String why = "no checker for kind " + fixture.kind() + " (fixture " + name + ")";
            if (strict) fail(why + "; -Dsr4g.golden.strict=true");
            Assumptions.abort(why);
          }
          try {
            checker.check(fixture);
          } finally {
            fixture.report().forEach(System.out::println);
            if (!fixture.compared().isEmpty()) {
              // Informational: inputs are never compared; an output listed here was not checked by the checker.
              List<String> unchecked = fixture.tensorNames().stream().filter(t -> !fixture.compared().contains(t)).toList();
              System.out.println(name + ": " + fixture.compared().size() + " tensors compared; not compared: " + unchecked);
            }
          }
          fixture.verify();
        }
      }));
    }
    return tests.stream();
  }
}

package org.sr4g.relations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sr4g.UserInputException;
import org.sr4g.geometry.BoxTable;

/** How {@link RelationKernels} picks the kernel: every branch, with the reason it logs (once) when it falls back. */
class RelationKernelChoiceTest {
  private final List<String> log = new ArrayList<>();
  private final List<Level> levels = new ArrayList<>();

  /** A stand-in for the vector kernel: the choice only needs something that is not the scalar instance. */
  private static final RelationKernel FAKE_VECTOR = new RelationKernel() {
    @Override
    public void relate(BoxTable boxes, int subject, int[] out) {}

    @Override
    public String name() {
      return "vector-fake";
    }
  };

  private RelationKernels.Choice choose(String kernel, String bits, boolean module, RelationKernels.VectorLoader vector) {
    return RelationKernels.choose(kernel, bits, module, vector, (level, message) -> {
      levels.add(level);
      log.add(message);
    });
  }

  @Test
  void vectorKernelWhenItLoadsAndNothingIsLogged() {
    for (String kernel : new String[] {null, "auto", "vector"}) {
      RelationKernels.Choice c = choose(kernel, null, true, () -> FAKE_VECTOR);
      assertSame(FAKE_VECTOR, c.kernel(), String.valueOf(kernel));
      assertNull(c.fallbackReason());
      assertNull(c.error());
    }
    assertEquals(List.of(), log);
  }

  @Test
  void missingModuleFallsBackAndSaysHowToEnableIt() {
    RelationKernels.Choice c = choose(null, null, false, () -> {
      throw new AssertionError("must not be loaded without the module");
    });
    assertSame(RelationKernel.scalar(), c.kernel());
    assertTrue(c.fallbackReason().contains("--add-modules jdk.incubator.vector"), c.fallbackReason());
    assertEquals(List.of(Level.WARNING), levels, "logged exactly once, as a warning");
    assertTrue(log.get(0).contains(c.fallbackReason()), log.get(0));
  }

  @Test
  void vectorClassThatFailsToLoadFallsBackWithTheCause() {
    RelationKernels.Choice c = choose(null, "256", true, () -> {
      throw new NoClassDefFoundError("jdk/incubator/vector/FloatVector");
    });
    assertSame(RelationKernel.scalar(), c.kernel());
    assertTrue(c.fallbackReason().contains("NoClassDefFoundError: jdk/incubator/vector/FloatVector"), c.fallbackReason());
    assertEquals(List.of(Level.WARNING), levels);

    log.clear();
    levels.clear();
    RelationKernels.Choice init = choose(null, null, true, () -> {
      throw new ExceptionInInitializerError(new IllegalStateException("species wider than padding"));
    });
    assertTrue(init.fallbackReason().contains("caused by java.lang.IllegalStateException: species wider than padding"),
        init.fallbackReason());
    assertEquals(1, log.size());
  }

  @Test
  void scalarOnRequestIsNotAWarning() {
    RelationKernels.Choice c = choose("scalar", null, true, () -> FAKE_VECTOR);
    assertSame(RelationKernel.scalar(), c.kernel());
    assertTrue(c.fallbackReason().contains("-Dsr4g.kernel=scalar"), c.fallbackReason());
    assertEquals(List.of(Level.DEBUG), levels);
  }

  @Test
  void vectorOnRequestThatCannotRunIsAnError() {
    RelationKernels.Choice c = choose("vector", null, false, () -> FAKE_VECTOR);
    assertNull(c.kernel());
    assertTrue(c.error().startsWith("-Dsr4g.kernel=vector, but the jdk.incubator.vector module"), c.error());
    assertEquals(List.of(), log, "an error is reported by best(), not logged");
  }

  @ParameterizedTest
  @ValueSource(strings = {"300", "1024", "64", "abc", "", "256bits"})
  void unknownVectorWidthIsAnErrorNotFiveHundredTwelve(String bits) {
    RelationKernels.Choice c = choose(null, bits, true, () -> FAKE_VECTOR);
    assertNull(c.kernel());
    assertEquals("-Dsr4g.vector.bits=" + bits + " is not a vector width: expected 128, 256 or 512 (bits),"
        + " or leave it unset for the CPU's preferred width", c.error());
    UserInputException e = assertThrows(UserInputException.class, () -> RelationKernels.requestedVectorBits(bits));
    assertEquals(c.error(), e.getMessage());
    // Even where the vector kernel could not run at all, a typo is reported rather than hidden by the fallback.
    assertEquals(c.error(), choose(null, bits, false, () -> FAKE_VECTOR).error());
    assertEquals(List.of(), log);
  }

  @Test
  void knownVectorWidths() {
    assertEquals(0, RelationKernels.requestedVectorBits(null));
    assertEquals(128, RelationKernels.requestedVectorBits("128"));
    assertEquals(256, RelationKernels.requestedVectorBits(" 256 "));
    assertEquals(512, RelationKernels.requestedVectorBits("512"));
  }

  @Test
  void unknownKernelIsAnError() {
    RelationKernels.Choice c = choose("fast", null, true, () -> FAKE_VECTOR);
    assertNull(c.kernel());
    assertEquals("-Dsr4g.kernel=fast is not a relation kernel: expected auto (the default), scalar or vector", c.error());
  }

  @Test
  void thisJvmUsesTheVectorKernelAndBestIsStable() {
    // Surefire passes --add-modules jdk.incubator.vector and no kernel properties.
    assertTrue(RelationKernel.fallbackReason().isEmpty(), () -> RelationKernel.fallbackReason().orElseThrow());
    assertSame(RelationKernel.best(), RelationKernel.best(), "chosen once");
  }

  @Test
  void autoTakesTheScalarKernelForASmallRunAndSaysWhy() {
    RelationKernels.Choice auto = choose(null, null, true, () -> FAKE_VECTOR);
    long small = RelationKernels.VECTOR_MIN_PAIRS - 1;
    assertSame(RelationKernel.scalar(), RelationKernels.forPairs(auto, small, (level, message) -> {
      levels.add(level);
      log.add(message);
    }));
    assertEquals(List.of(Level.DEBUG), levels, "said once, quietly: nothing is wrong");
    assertTrue(log.get(0).contains("not vector-fake") && log.get(0).contains(small + " box pairs are fewer than"), log.get(0));
    log.clear();
    assertSame(FAKE_VECTOR, RelationKernels.forPairs(auto, RelationKernels.VECTOR_MIN_PAIRS, (l, m) -> log.add(m)));
    assertEquals(List.of(), log);
  }

  @Test
  void anExplicitKernelIsObeyedWhateverTheWorkload() {
    RelationKernels.Choice vector = choose("vector", null, true, () -> FAKE_VECTOR);
    RelationKernels.Choice scalar = choose("scalar", null, true, () -> FAKE_VECTOR);
    log.clear();
    for (long pairs : new long[] {0, 2, 1_000_000, Long.MAX_VALUE}) {
      assertSame(FAKE_VECTOR, RelationKernels.forPairs(vector, pairs, (l, m) -> log.add(m)));
      assertSame(RelationKernel.scalar(), RelationKernels.forPairs(scalar, pairs, (l, m) -> log.add(m)));
    }
    assertEquals(List.of(), log);
    // A fallback stays a fallback, and a configuration error is still reported.
    RelationKernels.Choice noModule = choose(null, null, false, () -> FAKE_VECTOR);
    assertSame(RelationKernel.scalar(), RelationKernels.forPairs(noModule, Long.MAX_VALUE, (l, m) -> {}));
    RelationKernels.Choice bad = choose("fast", null, true, () -> FAKE_VECTOR);
    assertThrows(UserInputException.class, () -> RelationKernels.forPairs(bad, 10, (l, m) -> {}));
  }
}

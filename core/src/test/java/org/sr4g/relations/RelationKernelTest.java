package org.sr4g.relations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.sr4g.geometry.BoxTable;
import org.sr4g.testing.RelationTestTables;

/**
 * The vector kernel must give bit-identical masks to the scalar oracle, boundaries included. The tables come from
 * {@link RelationTestTables}, which the CUDA kernel's tests (native module) use too.
 */
class RelationKernelTest {

  @Test
  void vectorKernelIsChosenWhenTheModuleIsPresent() {
    // Surefire starts the JVM with --add-modules jdk.incubator.vector; without it this suite would only test scalar.
    assertTrue(RelationKernel.best().name().startsWith("vector-"), RelationKernel.best().name());
    assertTrue(RelationKernel.fallbackReason().isEmpty(), () -> RelationKernel.fallbackReason().orElseThrow());
    String bits = System.getProperty("sr4g.vector.bits");
    if (bits != null) assertEquals("vector-" + bits, RelationKernel.best().name(), "the fork tests the width it asks for");
  }

  /** Coordinates on a coarse grid make ties (shared edges, equal centres, exact diagonals, equal sizes) common. */
  @ParameterizedTest
  @FieldSource("org.sr4g.testing.RelationTestTables#GRID_SIZES")
  void vectorEqualsScalarOnGridBoxes(int n) {
    for (BoxTable t : RelationTestTables.tieHeavyGrid(n, 200)) assertSameMasks(t);
  }

  @ParameterizedTest
  @FieldSource("org.sr4g.testing.RelationTestTables#RANDOM_SIZES")
  void vectorEqualsScalarOnRandomBoxes(int n) {
    for (BoxTable t : RelationTestTables.random(n, 300)) assertSameMasks(t);
  }

  @Test
  void relateAllIsEveryRowOfRelate() {
    BoxTable t = RelationTestTables.tieHeavyGrid(17, 1).get(0);
    int[] all = new int[17 * 17];
    RelationKernel.best().relateAll(t, all);
    int[] row = new int[t.paddedSize()];
    for (int s = 0; s < 17; s++) {
      RelationKernel.scalar().relate(t, s, row);
      for (int o = 0; o < 17; o++) assertEquals(row[o], all[s * 17 + o], "s=" + s + " o=" + o);
    }
    assertThrows(IllegalArgumentException.class, () -> RelationKernel.scalar().relateAll(t, new int[17 * 17 - 1]));
  }

  @Test
  void reusedTableGivesTheSameMasksAsAFreshOne() {
    BoxTable reused = new BoxTable();
    for (int i = 0; i < 40; i++) reused.addCoco(i, i, 10, 10, 100, 100);
    reused.clear();
    BoxTable fresh = new BoxTable();
    for (BoxTable t : new BoxTable[] {reused, fresh}) {
      t.addCoco(0, 0, 10, 10, 100, 100);
      t.addCoco(50, 50, 10, 10, 100, 100);
    }
    int[] a = new int[64], b = new int[64];
    RelationKernel.best().relate(reused, 0, a);
    RelationKernel.best().relate(fresh, 0, b);
    assertEquals(b[1], a[1]);
  }

  /** Both kernels: the vector one, and the scalar one (branch-free, so not the oracle's code either). */
  private static void assertSameMasks(BoxTable t) {
    int n = t.size();
    for (RelationKernel kernel : new RelationKernel[] {RelationKernel.best(), RelationKernel.scalar()}) {
      int[] actual = new int[n * n];
      kernel.relateAll(t, actual);
      RelationTestTables.assertOracleMasks(t, actual, kernel.name());
    }
  }
}

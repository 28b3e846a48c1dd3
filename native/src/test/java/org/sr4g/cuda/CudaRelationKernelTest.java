package org.sr4g.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.sr4g.geometry.BoxTable;
import org.sr4g.relations.RelationKernel;
import org.sr4g.testing.RelationTestTables;

/**
 * The CUDA relation kernel on a GPU against {@link RelationKernel#scalar()}, on the same tables as the vector kernel's
 * test. Skips with the reason (never fails, also under CI=true) where there is no GPU or no fatbin; the kernel's source
 * is checked on the CPU by {@link CudaRelationKernelSourceTest} everywhere.
 */
class CudaRelationKernelTest {
  private CudaRelationKernel kernel;

  @BeforeEach
  void needGpu() {
    String why = CudaRelationKernel.unavailableReason();
    Assumptions.assumeTrue(why == null, "GPU relation kernel test skipped: " + why);
    kernel = CudaRelationKernel.open();
  }

  @ParameterizedTest
  @FieldSource("org.sr4g.testing.RelationTestTables#GRID_SIZES")
  void allPairsEqualScalarOnTheTieHeavyGrid(int n) {
    assertAllPairsEqualScalar(RelationTestTables.tieHeavyGrid(n, 200));
  }

  @ParameterizedTest
  @FieldSource("org.sr4g.testing.RelationTestTables#RANDOM_SIZES")
  void allPairsEqualScalarOnRandomBoxes(int n) {
    assertAllPairsEqualScalar(RelationTestTables.random(n, 300));
  }

  private void assertAllPairsEqualScalar(List<BoxTable> tables) {
    for (BoxTable t : tables) {
      int[] masks = new int[t.size() * t.size()];
      kernel.relateAll(t, masks);
      RelationTestTables.assertOracleMasks(t, masks, kernel.name());
    }
  }

  @Test
  void oneSubjectAtATimeEqualsScalar() {
    for (BoxTable t : RelationTestTables.tieHeavyGrid(31, 5)) {
      int[] expected = new int[t.paddedSize()], actual = new int[t.paddedSize()];
      for (int s = 0; s < t.size(); s++) {
        RelationKernel.scalar().relate(t, s, expected);
        Arrays.fill(actual, -1);
        kernel.relate(t, s, actual);
        assertArrayEquals(Arrays.copyOf(expected, t.size()), Arrays.copyOf(actual, t.size()), "subject " + s);
      }
    }
  }

  @Test
  void largeTableInOneLaunch() {
    // 3000 boxes: 9M pairs, 35,157 blocks of 256 threads; the last block is partly idle.
    BoxTable t = RelationTestTables.tieHeavyGrid(3000, 1).get(0);
    int[] masks = new int[3000 * 3000];
    float[] ms = new float[1];
    kernel.relateAll(t, masks, ms);
    RelationTestTables.assertOracleMasks(t, masks, kernel.name());
    System.out.printf("cuda relation kernel: 3000 boxes, 9M pairs in %.3f ms%n", ms[0]);
  }

  @Test
  void wrongSizesAreJavaExceptions() {
    BoxTable t = RelationTestTables.tieHeavyGrid(7, 1).get(0);
    assertThrows(IllegalArgumentException.class, () -> kernel.relateAll(t, new int[48]));
    assertThrows(IllegalArgumentException.class, () -> kernel.relate(t, 0, new int[7]));
    assertThrows(IndexOutOfBoundsException.class, () -> kernel.relate(t, 7, new int[16]));
    int[] none = new int[0];
    kernel.relateAll(new BoxTable(), none);
    assertEquals(0, none.length);
  }
}

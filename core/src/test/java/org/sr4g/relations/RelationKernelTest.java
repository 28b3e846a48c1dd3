package org.sr4g.relations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sr4g.geometry.BoxTable;

/** The vector kernel must give bit-identical masks to the scalar oracle, boundaries included. */
class RelationKernelTest {

  @Test
  void vectorKernelIsChosenWhenTheModuleIsPresent() {
    // Surefire starts the JVM with --add-modules jdk.incubator.vector; without it this suite would only test scalar.
    assertTrue(RelationKernel.best().name().startsWith("vector-"), RelationKernel.best().name());
    String bits = System.getProperty("sr4g.vector.bits");
    if (bits != null) assertEquals("vector-" + bits, RelationKernel.best().name(), "the fork tests the width it asks for");
  }

  /** Coordinates on a coarse grid make ties (shared edges, equal centres, exact diagonals, equal sizes) common. */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100})
  void vectorEqualsScalarOnGridBoxes(int n) {
    SplittableRandom rnd = new SplittableRandom(n * 7919L);
    for (int round = 0; round < 200; round++) {
      BoxTable t = new BoxTable();
      float W = rnd.nextBoolean() ? 640 : 1 + rnd.nextInt(1000);
      float H = rnd.nextBoolean() ? 480 : 1 + rnd.nextInt(1000);
      for (int i = 0; i < n; i++) {
        int grid = 1 + rnd.nextInt(10);
        float x = rnd.nextInt(grid) * W / grid;
        float y = rnd.nextInt(grid) * H / grid;
        float w = (1 + rnd.nextInt(grid)) * W / grid;
        float h = (1 + rnd.nextInt(grid)) * H / grid;
        if (rnd.nextInt(8) == 0 && i > 0) { // exact duplicate of an earlier box
          int k = rnd.nextInt(i);
          t.addCoco(t.x0()[k] * W, t.y0()[k] * H, t.bw()[k] * W, t.bh()[k] * H, W, H);
        } else {
          t.addCoco(x, y, w, h, W, H);
        }
      }
      assertSameMasks(t);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 5, 13, 40})
  void vectorEqualsScalarOnRandomBoxes(int n) {
    SplittableRandom rnd = new SplittableRandom(42 + n);
    for (int round = 0; round < 300; round++) {
      BoxTable t = new BoxTable();
      for (int i = 0; i < n; i++) {
        float x = (float) rnd.nextDouble(0, 600), y = (float) rnd.nextDouble(0, 400);
        t.addCoco(x, y, (float) rnd.nextDouble(0.01, 640 - x), (float) rnd.nextDouble(0.01, 480 - y), 640, 480);
      }
      assertSameMasks(t);
    }
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

  private static void assertSameMasks(BoxTable t) {
    int[] expected = new int[t.paddedSize()];
    int[] actual = new int[t.paddedSize()];
    for (int s = 0; s < t.size(); s++) {
      RelationKernel.scalar().relate(t, s, expected);
      RelationKernel.best().relate(t, s, actual);
      for (int o = 0; o < t.size(); o++) {
        if (expected[o] != actual[o]) {
          throw new AssertionError(
              "subject " + t.get(s) + " object " + t.get(o) + ": scalar " + Relation.fromMask(expected[o])
                  + " vector " + Relation.fromMask(actual[o]));
        }
      }
    }
  }
}

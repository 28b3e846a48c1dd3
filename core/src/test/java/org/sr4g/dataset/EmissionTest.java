package org.sr4g.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.sr4g.relations.Relation;
import org.sr4g.relations.RuleGroup;

class EmissionTest {
  @Test
  void choiceIsAlwaysAnApplicableRelation() {
    for (int mask = 1; mask <= Relation.ALL; mask += 37) {
      for (long id = 0; id < 50; id++) {
        int r = Emission.chooseOne(7, 1000 + id, id, id + 1, mask);
        assertTrue((mask & (1 << r)) != 0, "mask " + mask + " gave " + r);
      }
    }
    assertEquals(-1, Emission.chooseOne(0, 1, 2, 3, 0));
  }

  @Test
  void groupsFirstThenRelationsUniformly() {
    // Position group with one relation (left), overlap with one (separated), scale with three.
    int mask = Relation.LEFT_OF.bit() | Relation.SEPARATED.bit() | Relation.WIDER_THAN.bit() | Relation.TALLER_THAN.bit()
        | Relation.LARGER_THAN.bit();
    int[] counts = new int[Relation.COUNT];
    int n = 300_000;
    for (int i = 0; i < n; i++) counts[Emission.chooseOne(0, i / 1000, i, i * 31L, mask)]++;
    // Each group 1/3; inside the scale group each relation 1/9.
    assertEquals(n / 3.0, counts[Relation.LEFT_OF.ordinal()], n * 0.01);
    assertEquals(n / 3.0, counts[Relation.SEPARATED.ordinal()], n * 0.01);
    for (Relation r : new Relation[] {Relation.WIDER_THAN, Relation.TALLER_THAN, Relation.LARGER_THAN}) {
      assertEquals(n / 9.0, counts[r.ordinal()], n * 0.01, r.name());
    }
    assertEquals(Relation.maskOf(RuleGroup.OVERLAP), Relation.OVERLAPPING.bit() | Relation.SEPARATED.bit());
  }

  @Test
  void choiceDependsOnIdsAndSeedOnly() {
    int mask = Relation.ALL;
    assertEquals(Emission.chooseOne(3, 10, 20, 30, mask), Emission.chooseOne(3, 10, 20, 30, mask));
    int differ = 0;
    for (long s = 0; s < 64; s++) if (Emission.chooseOne(s, 10, 20, 30, mask) != Emission.chooseOne(0, 10, 20, 30, mask)) differ++;
    assertTrue(differ > 20, "the seed changes the choice: " + differ);
  }

  /** The choice as first written (every group counted per pair, the hash from all four ids): the lookups must agree. */
  private static int chooseOneAsWritten(long seed, long imageId, long subject, long object, int mask) {
    if (mask == 0) return -1;
    long h = Mix.hash(seed, imageId, subject, object);
    int groups = 0;
    for (RuleGroup g : RuleGroup.values()) if ((mask & Relation.maskOf(g)) != 0) groups++;
    int pick = Mix.below(h >>> 32, groups);
    int inGroup = 0;
    for (RuleGroup g : RuleGroup.values()) {
      if ((mask & Relation.maskOf(g)) != 0 && pick-- == 0) {
        inGroup = mask & Relation.maskOf(g);
        break;
      }
    }
    int k = Mix.below(h, Integer.bitCount(inGroup));
    for (int m = inGroup; ; m &= m - 1) if (k-- == 0) return Integer.numberOfTrailingZeros(m);
  }

  @Test
  void subjectPrefixAndMaskTablesGiveTheChoiceAsFirstWritten() {
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
    for (int mask = 0; mask <= Relation.ALL; mask++) {
      long seed = rnd.nextLong(), image = rnd.nextLong(), subject = rnd.nextLong(), object = rnd.nextLong();
      int expected = chooseOneAsWritten(seed, image, subject, object, mask);
      assertEquals(expected, Emission.chooseOne(seed, image, subject, object, mask), "mask " + mask);
      assertEquals(expected, Emission.chooseOne(Emission.subjectPrefix(seed, image, subject), object, mask), "mask " + mask);
    }
  }
}

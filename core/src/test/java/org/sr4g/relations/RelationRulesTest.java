package org.sr4g.relations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.sr4g.relations.Relation.*;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sr4g.geometry.NormalizedBox;

/** Every boundary of the rules in docs/relations.md, with the expected set worked out by hand from the rule text. */
class RelationRulesTest {
  private static final float T = RelationRules.TOLERANCE;

  /** A normalized box from its corners, with derived fields computed as the rules define them. */
  static NormalizedBox box(float x0, float y0, float x1, float y1) {
    float bw = x1 - x0, bh = y1 - y0;
    return new NormalizedBox(x0, y0, x1, y1, (x0 + x1) / 2f, (y0 + y1) / 2f, bw, bh, bw * bh);
  }

  static Set<Relation> rel(NormalizedBox s, NormalizedBox o) {
    return Relation.fromMask(RelationRules.relations(s, o)).isEmpty()
        ? EnumSet.noneOf(Relation.class)
        : EnumSet.copyOf(Relation.fromMask(RelationRules.relations(s, o)));
  }

  @Test
  void identicalBoxesAreSurroundingAndOverlappingWithNoScale() {
    NormalizedBox a = box(0.1f, 0.2f, 0.4f, 0.6f);
    // surrounding is checked first and holds with equality on all four sides; inside is never reached.
    assertEquals(EnumSet.of(SURROUNDING, OVERLAPPING), rel(a, a));
  }

  @Test
  void containerAndContained() {
    NormalizedBox big = box(0.1f, 0.1f, 0.9f, 0.9f), small = box(0.3f, 0.3f, 0.5f, 0.5f);
    assertEquals(EnumSet.of(SURROUNDING, OVERLAPPING, WIDER_THAN, TALLER_THAN, LARGER_THAN), rel(big, small));
    assertEquals(EnumSet.of(INSIDE, OVERLAPPING, NARROWER_THAN, SHORTER_THAN, SMALLER_THAN), rel(small, big));
  }

  @Test
  void surroundingToleranceIsInclusiveAndExact() {
    NormalizedBox s = box(0.3f, 0.3f, 0.6f, 0.6f);
    // o pokes out to the left by exactly t: s.x0 - t <= o.x0 holds with equality.
    NormalizedBox atTolerance = box(s.x0() - T, 0.35f, 0.55f, 0.55f);
    assertEquals(true, rel(s, atTolerance).contains(SURROUNDING));
    // one float step further out and it no longer holds; the centres then decide (o's centre is to the left).
    NormalizedBox beyond = box(Math.nextDown(s.x0() - T), 0.35f, 0.55f, 0.55f);
    Set<Relation> r = rel(s, beyond);
    assertEquals(false, r.contains(SURROUNDING));
    assertEquals(false, r.contains(INSIDE));
    assertEquals(true, r.contains(RIGHT_OF), r.toString());
  }

  @Test
  void insideToleranceIsInclusive() {
    NormalizedBox o = box(0.2f, 0.2f, 0.8f, 0.8f);
    // s.x0 + t >= o.x0 with equality: s may stick out of o by up to t.
    NormalizedBox s = box(o.x0() - T, 0.3f, 0.5f, 0.5f);
    assertEquals(true, rel(s, o).contains(INSIDE), rel(s, o).toString());
    NormalizedBox out = box(Math.nextDown(o.x0() - T), 0.3f, 0.5f, 0.5f);
    assertEquals(false, rel(out, o).contains(INSIDE));
  }

  // Coordinates below are multiples of 1/16 so widths and centres are exact in float and only the rule under test
  // decides (0.8f - 0.7f != 0.5f - 0.4f in float, which would add a spurious wider/narrower).
  @Test
  void directionsOnTheAxes() {
    NormalizedBox o = box(0.375f, 0.375f, 0.5f, 0.5f);
    assertEquals(EnumSet.of(RIGHT_OF, SEPARATED), rel(box(0.75f, 0.375f, 0.875f, 0.5f), o));
    assertEquals(EnumSet.of(LEFT_OF, SEPARATED), rel(box(0.0625f, 0.375f, 0.1875f, 0.5f), o));
    assertEquals(EnumSet.of(BELOW, SEPARATED), rel(box(0.375f, 0.75f, 0.5f, 0.875f), o)); // y points down
    assertEquals(EnumSet.of(ABOVE, SEPARATED), rel(box(0.375f, 0.0625f, 0.5f, 0.1875f), o));
  }

  @Test
  void diagonalTiesFollowTheInequalities() {
    // o is centred on (0.5, 0.5); s has the same size, centred 0.25 away along a diagonal.
    NormalizedBox o = box(0.4375f, 0.4375f, 0.5625f, 0.5625f);
    // down-right: dx == dy > 0 fails "dy < dx" for right, satisfies "dx <= dy" for below.
    assertEquals(EnumSet.of(BELOW, SEPARATED), rel(box(0.6875f, 0.6875f, 0.8125f, 0.8125f), o));
    // up-right: dy == -dx < 0: right holds since -dx <= dy and dy < dx.
    assertEquals(EnumSet.of(RIGHT_OF, SEPARATED), rel(box(0.6875f, 0.1875f, 0.8125f, 0.3125f), o));
    // up-left: dx == dy < 0: left holds (dx <= dy, dy <= -dx); above needs dy < dx strictly.
    assertEquals(EnumSet.of(LEFT_OF, SEPARATED), rel(box(0.1875f, 0.1875f, 0.3125f, 0.3125f), o));
    // down-left: dy == -dx > 0: below needs -dy < dx (false), left holds with dy <= -dx.
    assertEquals(EnumSet.of(LEFT_OF, SEPARATED), rel(box(0.1875f, 0.6875f, 0.3125f, 0.8125f), o));
  }

  @Test
  void sameCentreWithoutContainmentHasNoPosition() {
    NormalizedBox wide = box(0.1f, 0.4f, 0.9f, 0.6f), tall = box(0.4f, 0.1f, 0.6f, 0.9f);
    // dx == dy == 0 and neither contains the other: no position relation at all.
    Set<Relation> r = rel(wide, tall);
    assertEquals(EnumSet.of(OVERLAPPING, WIDER_THAN, SHORTER_THAN), r);
  }

  @Test
  void sharedEdgeIsSeparated() {
    // iw == 0: touching boxes do not overlap.
    assertEquals(EnumSet.of(LEFT_OF, SEPARATED), rel(box(0.0f, 0.0f, 0.5f, 1.0f), box(0.5f, 0.0f, 1.0f, 1.0f)));
    // A sliver of overlap is overlapping.
    Set<Relation> r = rel(box(0.0f, 0.0f, 0.5f, 1.0f), box(Math.nextDown(0.5f), 0.0f, 1.0f, 1.0f));
    assertEquals(true, r.contains(OVERLAPPING), r.toString());
  }

  @Test
  void scaleTiesGiveNothing() {
    // Equal width, taller: only taller/larger (and position/overlap).
    Set<Relation> r = rel(box(0.125f, 0.125f, 0.25f, 0.5f), box(0.625f, 0.125f, 0.75f, 0.375f));
    assertEquals(EnumSet.of(LEFT_OF, SEPARATED, TALLER_THAN, LARGER_THAN), r);
    // Different shapes, equal area: 0.2*0.4 and 0.4*0.2 are the same float product.
    Set<Relation> eq = rel(box(0.0f, 0.0f, 0.25f, 0.5f), box(0.5f, 0.0f, 1.0f, 0.25f));
    assertEquals(false, eq.contains(LARGER_THAN) || eq.contains(SMALLER_THAN), eq.toString());
  }

  @Test
  void coordinatesAreNormalizedInFloatInTheDocumentedOrder() {
    NormalizedBox b = NormalizedBox.fromCoco(10.5f, 20f, 100f, 50f, 640f, 480f);
    assertEquals(10.5f / 640f, b.x0());
    assertEquals((10.5f + 100f) / 640f, b.x1());
    assertEquals((b.x0() + b.x1()) / 2f, b.cx());
    assertEquals((100f / 640f) * (50f / 480f), b.area());
  }

  @Test
  void oppositesArePairedAndNamesRoundTrip() {
    for (Relation r : Relation.all()) {
      assertEquals(r, r.opposite().opposite());
      assertEquals(r.family(), r.opposite().family());
      assertEquals(r, Relation.parse(r.canonicalName()));
      assertEquals(r, Relation.parse(r.phrase()));
      assertEquals(r, Relation.parse(r.name()));
    }
    assertEquals(RIGHT_OF, LEFT_OF.opposite());
    assertEquals(INSIDE, SURROUNDING.opposite());
    assertEquals(SEPARATED, OVERLAPPING.opposite());
    assertEquals(SMALLER_THAN, LARGER_THAN.opposite());
    assertEquals(Relation.maskOf(Family.PROJECTIVE), Relation.parseSelection("visor"));
    assertEquals(LEFT_OF.bit() | ABOVE.bit(), Relation.parseSelection("left of, above"));
  }
}

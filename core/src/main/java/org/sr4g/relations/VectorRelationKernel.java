package org.sr4g.relations;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.sr4g.geometry.BoxTable;

/**
 * The relation rules evaluated for one subject against {@code F.length()} objects at a time with the JDK Vector API.
 *
 * <p>Every branch of {@link RelationRules} becomes a lane mask; the priority "surrounding, then inside, then the
 * four directions" becomes mask arithmetic. Each float operation is the same IEEE operation in the same order as the
 * scalar rules (subtractions of the subject's thresholds are done once, in scalar, exactly as the scalar code does
 * them), so results are bit-identical, which the tests check.
 *
 * <p>The species is the CPU's preferred one (capped at 512 bits, the padding of {@link BoxTable}); override with
 * {@code -Dsr4g.vector.bits=128|256|512} (any other value is an error, see {@link RelationKernels}). Measured on the
 * AVX-512 machines here (bench/results/relation-kernel.txt): with padded arrays and no masked tail, 512-bit vectors
 * relate COCO-like images ~10x faster than scalar and ~1.3x faster than 256-bit ones; the 8-10x slowdown an earlier
 * prototype saw with 512-bit species came from masked loads, which this kernel never uses. Loops run whole vectors
 * only: {@link BoxTable} pads its arrays.
 */
final class VectorRelationKernel implements RelationKernel {
  private static final int PREFERRED_BITS = FloatVector.SPECIES_PREFERRED.vectorBitSize();
  private static final int REQUESTED_BITS =
      RelationKernels.requestedVectorBits(System.getProperty(RelationKernels.VECTOR_BITS_PROPERTY));
  private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(
      REQUESTED_BITS != 0 ? REQUESTED_BITS : Math.max(128, Math.min(512, PREFERRED_BITS))));
  private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

  private static final int LEFT = Relation.LEFT_OF.bit();
  private static final int RIGHT = Relation.RIGHT_OF.bit();
  private static final int ABOVE = Relation.ABOVE.bit();
  private static final int BELOW = Relation.BELOW.bit();
  private static final int SURROUNDING = Relation.SURROUNDING.bit();
  private static final int INSIDE = Relation.INSIDE.bit();
  private static final int OVERLAPPING = Relation.OVERLAPPING.bit();
  private static final int SEPARATED = Relation.SEPARATED.bit();
  private static final int WIDER = Relation.WIDER_THAN.bit();
  private static final int NARROWER = Relation.NARROWER_THAN.bit();
  private static final int TALLER = Relation.TALLER_THAN.bit();
  private static final int SHORTER = Relation.SHORTER_THAN.bit();
  private static final int LARGER = Relation.LARGER_THAN.bit();
  private static final int SMALLER = Relation.SMALLER_THAN.bit();

  private VectorRelationKernel() {}

  /** Called reflectively by {@link RelationKernels} so this class is only linked when the module is present. */
  static RelationKernel create() {
    if (REQUESTED_BITS == 0 && PREFERRED_BITS < 128) {
      // Like Lucene: vectors narrower than 128 bits are emulated and slower than scalar code.
      throw new UnsupportedOperationException("this CPU's preferred vector width is " + PREFERRED_BITS
          + " bits, narrower than the 128 the vector kernel needs to beat scalar (-D"
          + RelationKernels.VECTOR_BITS_PROPERTY + "=128 forces it)");
    }
    if (F.length() > BoxTable.PAD) throw new IllegalStateException("species wider than BoxTable padding: " + F);
    return new VectorRelationKernel();
  }

  @Override
  public String name() {
    return "vector-" + F.vectorBitSize();
  }

  @Override
  public void relate(BoxTable b, int s, int[] out) {
    final float t = RelationRules.TOLERANCE;
    final float[] x0 = b.x0(), y0 = b.y0(), x1 = b.x1(), y1 = b.y1(), cx = b.cx(), cy = b.cy();
    final float[] bw = b.bw(), bh = b.bh(), area = b.area();
    // Subject-side terms of the surrounding/inside tests, computed once exactly as the scalar rules compute them.
    final float surX0 = x0[s] - t, surX1 = x1[s] + t, surY0 = y0[s] - t, surY1 = y1[s] + t;
    final float insX0 = x0[s] + t, insX1 = x1[s] - t, insY0 = y0[s] + t, insY1 = y1[s] - t;
    final FloatVector sx0 = FloatVector.broadcast(F, x0[s]);
    final FloatVector sx1 = FloatVector.broadcast(F, x1[s]);
    final FloatVector sy0 = FloatVector.broadcast(F, y0[s]);
    final FloatVector sy1 = FloatVector.broadcast(F, y1[s]);
    final FloatVector scx = FloatVector.broadcast(F, cx[s]);
    final FloatVector scy = FloatVector.broadcast(F, cy[s]);
    final float sbw = bw[s], sbh = bh[s], sarea = area[s];
    final IntVector zero = IntVector.zero(I);
    final int bound = b.paddedSize();
    for (int j = 0; j < bound; j += F.length()) {
      FloatVector ox0 = FloatVector.fromArray(F, x0, j);
      FloatVector ox1 = FloatVector.fromArray(F, x1, j);
      FloatVector oy0 = FloatVector.fromArray(F, y0, j);
      FloatVector oy1 = FloatVector.fromArray(F, y1, j);

      // s.x0 - t <= o.x0  is  o.x0 >= (s.x0 - t), and so on.
      VectorMask<Float> surrounding =
          ox0.compare(VectorOperators.GE, surX0)
              .and(ox1.compare(VectorOperators.LE, surX1))
              .and(oy0.compare(VectorOperators.GE, surY0))
              .and(oy1.compare(VectorOperators.LE, surY1));
      VectorMask<Float> inside =
          ox0.compare(VectorOperators.LE, insX0)
              .and(ox1.compare(VectorOperators.GE, insX1))
              .and(oy0.compare(VectorOperators.LE, insY0))
              .and(oy1.compare(VectorOperators.GE, insY1))
              .andNot(surrounding);
      VectorMask<Float> direction = surrounding.or(inside).not();

      FloatVector dx = scx.sub(FloatVector.fromArray(F, cx, j));
      FloatVector dy = scy.sub(FloatVector.fromArray(F, cy, j));
      FloatVector ndx = dx.neg();
      FloatVector ndy = dy.neg();
      VectorMask<Float> right =
          dx.compare(VectorOperators.GT, 0f).and(ndx.compare(VectorOperators.LE, dy)).and(dy.compare(VectorOperators.LT, dx));
      VectorMask<Float> below =
          dy.compare(VectorOperators.GT, 0f).and(ndy.compare(VectorOperators.LT, dx)).and(dx.compare(VectorOperators.LE, dy));
      VectorMask<Float> left =
          dx.compare(VectorOperators.LT, 0f).and(dx.compare(VectorOperators.LE, dy)).and(dy.compare(VectorOperators.LE, ndx));
      VectorMask<Float> above =
          dy.compare(VectorOperators.LT, 0f).and(dy.compare(VectorOperators.LT, dx)).and(dx.compare(VectorOperators.LT, ndy));
      // The scalar code tests right, below, left, above in order; the cones are disjoint, so only 'direction' gates.
      right = right.and(direction);
      below = below.and(direction);
      left = left.and(direction);
      above = above.and(direction);

      FloatVector iw = sx1.min(ox1).sub(sx0.max(ox0));
      FloatVector ih = sy1.min(oy1).sub(sy0.max(oy0));
      VectorMask<Float> overlapping = iw.compare(VectorOperators.GT, 0f).and(ih.compare(VectorOperators.GT, 0f));

      FloatVector obw = FloatVector.fromArray(F, bw, j);
      FloatVector obh = FloatVector.fromArray(F, bh, j);
      FloatVector oarea = FloatVector.fromArray(F, area, j);

      IntVector m = zero.blend(SEPARATED, overlapping.not().cast(I));
      m = m.blend(m.or(OVERLAPPING), overlapping.cast(I));
      m = m.blend(m.or(SURROUNDING), surrounding.cast(I));
      m = m.blend(m.or(INSIDE), inside.cast(I));
      m = m.blend(m.or(RIGHT), right.cast(I));
      m = m.blend(m.or(BELOW), below.cast(I));
      m = m.blend(m.or(LEFT), left.cast(I));
      m = m.blend(m.or(ABOVE), above.cast(I));
      m = m.blend(m.or(WIDER), obw.compare(VectorOperators.LT, sbw).cast(I));
      m = m.blend(m.or(NARROWER), obw.compare(VectorOperators.GT, sbw).cast(I));
      m = m.blend(m.or(TALLER), obh.compare(VectorOperators.LT, sbh).cast(I));
      m = m.blend(m.or(SHORTER), obh.compare(VectorOperators.GT, sbh).cast(I));
      m = m.blend(m.or(LARGER), oarea.compare(VectorOperators.LT, sarea).cast(I));
      m = m.blend(m.or(SMALLER), oarea.compare(VectorOperators.GT, sarea).cast(I));
      m.intoArray(out, j);
    }
  }
}

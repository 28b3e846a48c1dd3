package org.sr4g.relations;

import org.sr4g.geometry.BoxTable;

/** {@link RelationRules} applied pair by pair. */
final class ScalarRelationKernel implements RelationKernel {
  static final ScalarRelationKernel INSTANCE = new ScalarRelationKernel();

  private ScalarRelationKernel() {}

  @Override
  public void relate(BoxTable b, int s, int[] out) {
    float[] x0 = b.x0(), y0 = b.y0(), x1 = b.x1(), y1 = b.y1(), cx = b.cx(), cy = b.cy();
    float[] bw = b.bw(), bh = b.bh(), area = b.area();
    int n = b.size();
    for (int j = 0; j < n; j++) {
      out[j] =
          RelationRules.relations(
              x0[s], y0[s], x1[s], y1[s], cx[s], cy[s], bw[s], bh[s], area[s],
              x0[j], y0[j], x1[j], y1[j], cx[j], cy[j], bw[j], bh[j], area[j]);
    }
  }

  @Override
  public String name() {
    return "scalar";
  }
}

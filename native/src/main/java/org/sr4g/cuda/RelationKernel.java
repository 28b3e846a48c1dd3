package org.sr4g.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The SR4G pairwise relations of n boxes, as one 14-bit mask per ordered pair (subject s, object o), at
 * {@code masks[s * n + o]} (the diagonal s == o is computed too, by the same rules). Bits: 0 left of, 1 right of,
 * 2 above, 3 below, 4 surrounding, 5 inside, 6 overlapping, 7 separated, 8 wider, 9 narrower, 10 taller,
 * 11 shorter, 12 larger, 13 smaller. Boxes are {x, y, w, h} in pixels of a W × H image.
 *
 * <p>{@link #cpu} is the reference (float32 in the rules' order); {@link #gpu} runs {@code sr4g_relations} from
 * sr4g_kernels.cu, compiled with -fmad=false so both round identically.
 */
public final class RelationKernel {
  public static final int LEFT_OF = 0, RIGHT_OF = 1, ABOVE = 2, BELOW = 3, SURROUNDING = 4, INSIDE = 5,
      OVERLAPPING = 6, SEPARATED = 7, WIDER = 8, NARROWER = 9, TALLER = 10, SHORTER = 11, LARGER = 12, SMALLER = 13;
  static final float T = 0.02f;

  private RelationKernel() {}

  public static int[] cpu(float[] boxes, float W, float H) {
    int n = checkedCount(boxes);
    int[] masks = new int[n * n];
    for (int s = 0; s < n; s++)
      for (int o = 0; o < n; o++) masks[s * n + o] = pair(boxes, s, o, W, H);
    return masks;
  }

  /** The mask of one ordered pair. */
  public static int pair(float[] b, int s, int o, float W, float H) {
    float sx0 = b[4 * s] / W, sy0 = b[4 * s + 1] / H, sx1 = (b[4 * s] + b[4 * s + 2]) / W,
        sy1 = (b[4 * s + 1] + b[4 * s + 3]) / H;
    float ox0 = b[4 * o] / W, oy0 = b[4 * o + 1] / H, ox1 = (b[4 * o] + b[4 * o + 2]) / W,
        oy1 = (b[4 * o + 1] + b[4 * o + 3]) / H;
    float scx = (sx0 + sx1) / 2.0f, scy = (sy0 + sy1) / 2.0f, ocx = (ox0 + ox1) / 2.0f, ocy = (oy0 + oy1) / 2.0f;
    float sbw = b[4 * s + 2] / W, sbh = b[4 * s + 3] / H, obw = b[4 * o + 2] / W, obh = b[4 * o + 3] / H;
    float sarea = sbw * sbh, oarea = obw * obh;
    int m = 0;
    if (sx0 - T <= ox0 && sx1 + T >= ox1 && sy0 - T <= oy0 && sy1 + T >= oy1) {
      m |= 1 << SURROUNDING;
    } else if (sx0 + T >= ox0 && sx1 - T <= ox1 && sy0 + T >= oy0 && sy1 - T <= oy1) {
      m |= 1 << INSIDE;
    } else {
      float dx = scx - ocx, dy = scy - ocy;
      if (dx > 0 && -dx <= dy && dy < dx) m |= 1 << RIGHT_OF;
      else if (dy > 0 && -dy < dx && dx <= dy) m |= 1 << BELOW;
      else if (dx < 0 && dx <= dy && dy <= -dx) m |= 1 << LEFT_OF;
      else if (dy < 0 && dy < dx && dx < -dy) m |= 1 << ABOVE;
    }
    float iw = Math.min(sx1, ox1) - Math.max(sx0, ox0);
    float ih = Math.min(sy1, oy1) - Math.max(sy0, oy0);
    m |= (iw > 0 && ih > 0) ? 1 << OVERLAPPING : 1 << SEPARATED;
    if (sbw > obw) m |= 1 << WIDER;
    if (sbw < obw) m |= 1 << NARROWER;
    if (sbh > obh) m |= 1 << TALLER;
    if (sbh < obh) m |= 1 << SHORTER;
    if (sarea > oarea) m |= 1 << LARGER;
    if (sarea < oarea) m |= 1 << SMALLER;
    return m;
  }

  /** Same result as {@link #cpu}, computed on cuda:0. Throws IllegalStateException (with the reason) without a GPU. */
  public static int[] gpu(float[] boxes, float W, float H) {
    return gpu(boxes, W, H, null);
  }

  /** As {@link #gpu(float[], float, float)}; when {@code kernelMillis} is non-null, [0] receives the kernel time. */
  public static int[] gpu(float[] boxes, float W, float H, float[] kernelMillis) {
    int n = checkedCount(boxes);
    String why = Kernels.unavailableReason();
    if (why != null) throw new IllegalStateException("GPU relation kernel unavailable: " + why);
    CudaDriver d = CudaDriver.get();
    long f = Kernels.function(d, "sr4g_relations");
    long pairs = (long) n * n;
    long dBoxes = d.malloc(Math.max(4, 16L * n)), dMasks = d.malloc(Math.max(4, 4 * pairs));
    long e0 = d.createEvent(), e1 = d.createEvent();
    try (Arena a = Arena.ofConfined()) {
      d.copyToDevice(dBoxes, a.allocateFrom(JAVA_FLOAT, boxes));
      int block = 256;
      int grid = (int) Math.max(1, (pairs + block - 1) / block);
      d.recordEvent(e0, 0);
      d.launch(f, grid, block, 0, a.allocateFrom(JAVA_LONG, dBoxes), a.allocateFrom(JAVA_INT, n),
          a.allocateFrom(JAVA_FLOAT, W), a.allocateFrom(JAVA_FLOAT, H), a.allocateFrom(JAVA_LONG, dMasks));
      d.recordEvent(e1, 0);
      float ms = d.elapsedMillis(e0, e1);
      if (kernelMillis != null) kernelMillis[0] = ms;
      MemorySegment out = a.allocate(JAVA_INT, pairs);
      d.copyToHost(out, dMasks);
      return out.toArray(JAVA_INT);
    } finally {
      d.destroyEvent(e0);
      d.destroyEvent(e1);
      d.free(dBoxes);
      d.free(dMasks);
    }
  }

  private static int checkedCount(float[] boxes) {
    if (boxes.length % 4 != 0) throw new IllegalArgumentException("boxes must be n × {x, y, w, h}: " + boxes.length + " floats");
    int n = boxes.length / 4;
    if ((long) n * n > Integer.MAX_VALUE) throw new IllegalArgumentException("too many boxes: " + n);
    return n;
  }
}

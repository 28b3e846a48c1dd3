package org.sr4g.detection.image;

/**
 * Pillow's {@code Image.resize(size, Image.BICUBIC)} for 8-bit images, bit for bit (Pillow's {@code Resample.c}:
 * {@code precompute_coeffs}, {@code normalize_coeffs_8bpc}, {@code ImagingResampleHorizontal_8bpc} /
 * {@code Vertical_8bpc}).
 *
 * <p>Two separable passes, horizontal first; a pass whose size does not change is skipped. Per pass, with
 * {@code scale = in / out}, {@code fs = max(scale, 1)} and support {@code 2·fs} (the cubic kernel, a = −0.5, spans
 * ±2): output pixel {@code o} has centre {@code (o + 0.5)·scale} and reads inputs {@code xmin = max(int(centre −
 * support + 0.5), 0)} to {@code min(int(centre + support + 0.5), in) − 1} with weights {@code cubic((x − centre +
 * 0.5)/fs)} normalised to sum 1 (in double), then turned into 22-bit fixed point, {@code (int)(w·2²² ± 0.5)}. A pixel is
 * {@code clamp((2²¹ + Σ v·k) >> 22, 0, 255)}: rounded and clipped after each pass, in 32-bit integers.
 */
public final class PilBicubic {
  private static final int PRECISION_BITS = 32 - 8 - 2;
  private static final double SUPPORT = 2.0;

  private PilBicubic() {}

  /** Resizes {@code image} to {@code width × height} (a stretch: the aspect ratio is not kept). */
  public static RgbImage resize(RgbImage image, int width, int height) {
    if (width < 1 || height < 1) throw new IllegalArgumentException("size " + width + "×" + height);
    byte[] px = image.rgb();
    int w = image.width(), h = image.height();
    if (w != width) {
      px = horizontal(px, w, h, width);
      w = width;
    }
    if (h != height) px = vertical(px, w, h, height);
    return new RgbImage(width, height, px == image.rgb() ? px.clone() : px);
  }

  /** Bounds (xmin, count) per output pixel and the fixed-point weights, {@code ksize} per output pixel. */
  private record Coeffs(int[] bounds, int[] k, int ksize) {}

  private static Coeffs coeffs(int inSize, int outSize) {
    double scale = (double) inSize / outSize;
    double filterscale = Math.max(scale, 1.0);
    double support = SUPPORT * filterscale;
    int ksize = (int) Math.ceil(support) * 2 + 1;
    int[] bounds = new int[outSize * 2];
    int[] k = new int[outSize * ksize];
    double[] w = new double[ksize];
    for (int xx = 0; xx < outSize; xx++) {
      double center = (xx + 0.5) * scale;
      double ss = 1.0 / filterscale;
      int xmin = Math.max((int) (center - support + 0.5), 0);
      int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
      double ww = 0.0;
      for (int x = 0; x < xmax; x++) {
        w[x] = cubic((x + xmin - center + 0.5) * ss);
        ww += w[x];
      }
      for (int x = 0; x < xmax; x++) {
        double v = ww != 0.0 ? w[x] / ww : w[x];
        k[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
      }
      bounds[2 * xx] = xmin;
      bounds[2 * xx + 1] = xmax;
    }
    return new Coeffs(bounds, k, ksize);
  }

  /** Pillow's bicubic_filter: Keys' cubic convolution with a = −0.5. */
  private static double cubic(double x) {
    final double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
  }

  private static byte[] horizontal(byte[] in, int w, int h, int outW) {
    Coeffs c = coeffs(w, outW);
    byte[] out = new byte[outW * h * 3];
    for (int y = 0; y < h; y++) {
      int row = y * w * 3, orow = y * outW * 3;
      for (int xx = 0; xx < outW; xx++) {
        int xmin = c.bounds[2 * xx], n = c.bounds[2 * xx + 1], kk = xx * c.ksize;
        int s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
        for (int x = 0; x < n; x++) {
          int p = row + (xmin + x) * 3, k = c.k[kk + x];
          s0 += (in[p] & 0xff) * k;
          s1 += (in[p + 1] & 0xff) * k;
          s2 += (in[p + 2] & 0xff) * k;
        }
        out[orow + xx * 3] = clip8(s0);
        out[orow + xx * 3 + 1] = clip8(s1);
        out[orow + xx * 3 + 2] = clip8(s2);
      }
    }
    return out;
  }

  private static byte[] vertical(byte[] in, int w, int h, int outH) {
    Coeffs c = coeffs(h, outH);
    byte[] out = new byte[w * outH * 3];
    int stride = w * 3;
    for (int yy = 0; yy < outH; yy++) {
      int ymin = c.bounds[2 * yy], n = c.bounds[2 * yy + 1], kk = yy * c.ksize, orow = yy * stride;
      for (int i = 0; i < stride; i++) {
        int s = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < n; y++) s += (in[(ymin + y) * stride + i] & 0xff) * c.k[kk + y];
        out[orow + i] = clip8(s);
      }
    }
    return out;
  }

  /** {@code clamp(s >> 22, 0, 255)} with an arithmetic shift, as Pillow's clip8 lookup. */
  private static byte clip8(int s) {
    int v = s >> PRECISION_BITS;
    return (byte) (v < 0 ? 0 : Math.min(v, 255));
  }
}

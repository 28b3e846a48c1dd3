package org.sr4g.geometry;

import java.util.Arrays;

/**
 * The boxes of one image as a structure of arrays, normalized once so that the pairwise relation kernels only compare
 * and subtract. Arrays are padded to a multiple of {@link #PAD} so a vector kernel can run whole vectors without masks
 * (masked loads were measured 8-10x slower than scalar on AVX-512 here); padding lanes hold zeros and their results
 * are ignored.
 *
 * <p>Arrays are exposed without copying for the kernels; callers must not write to them. Not thread-safe: use one
 * table per thread and {@link #clear()} it between images.
 */
public final class BoxTable {
  /** Padding granularity: the largest float lane count of any species we use (512 bits). */
  public static final int PAD = 16;

  private float[] x0, y0, x1, y1, cx, cy, bw, bh, area;
  private int size;

  public BoxTable() {
    this(PAD);
  }

  public BoxTable(int capacity) {
    allocate(padded(Math.max(capacity, 1)));
  }

  private void allocate(int cap) {
    x0 = new float[cap];
    y0 = new float[cap];
    x1 = new float[cap];
    y1 = new float[cap];
    cx = new float[cap];
    cy = new float[cap];
    bw = new float[cap];
    bh = new float[cap];
    area = new float[cap];
  }

  /** {@code n} rounded up to {@link #PAD}. */
  public static int padded(int n) {
    return (n + PAD - 1) / PAD * PAD;
  }

  /** Forgets all boxes; padding lanes are zeroed again so stale values never leak into results. */
  public void clear() {
    int n = padded(Math.max(size, 1));
    for (float[] a : new float[][] {x0, y0, x1, y1, cx, cy, bw, bh, area}) Arrays.fill(a, 0, Math.min(n, a.length), 0f);
    size = 0;
  }

  /** Adds a COCO box {@code [x, y, w, h]} of an image of {@code W x H} pixels; returns its index. */
  public int addCoco(float x, float y, float w, float h, float imageWidth, float imageHeight) {
    // One definition of the float operation order: NormalizedBox.fromCoco (escape analysis removes the record).
    return add(NormalizedBox.fromCoco(x, y, w, h, imageWidth, imageHeight));
  }

  /** Removes the last box added (its lanes are zeroed so they cannot leak into padding). */
  public void removeLast() {
    if (size == 0) throw new IllegalStateException("empty");
    int i = --size;
    x0[i] = y0[i] = x1[i] = y1[i] = cx[i] = cy[i] = bw[i] = bh[i] = area[i] = 0f;
  }

  /** Adds an already normalized box. */
  public int add(NormalizedBox b) {
    ensure(size + 1);
    int i = size++;
    x0[i] = b.x0();
    y0[i] = b.y0();
    x1[i] = b.x1();
    y1[i] = b.y1();
    cx[i] = b.cx();
    cy[i] = b.cy();
    bw[i] = b.bw();
    bh[i] = b.bh();
    area[i] = b.area();
    return i;
  }

  public NormalizedBox get(int i) {
    if (i < 0 || i >= size) throw new IndexOutOfBoundsException(i);
    return new NormalizedBox(x0[i], y0[i], x1[i], y1[i], cx[i], cy[i], bw[i], bh[i], area[i]);
  }

  private void ensure(int n) {
    if (padded(n) <= x0.length) return;
    int cap = padded(Math.max(n, x0.length * 2));
    x0 = Arrays.copyOf(x0, cap);
    y0 = Arrays.copyOf(y0, cap);
    x1 = Arrays.copyOf(x1, cap);
    y1 = Arrays.copyOf(y1, cap);
    cx = Arrays.copyOf(cx, cap);
    cy = Arrays.copyOf(cy, cap);
    bw = Arrays.copyOf(bw, cap);
    bh = Arrays.copyOf(bh, cap);
    area = Arrays.copyOf(area, cap);
  }

  public int size() {
    return size;
  }

  /** {@link #size()} rounded up to {@link #PAD}: the loop bound of a mask-free vector kernel. */
  public int paddedSize() {
    return padded(size);
  }

  public float[] x0() {
    return x0;
  }

  public float[] y0() {
    return y0;
  }

  public float[] x1() {
    return x1;
  }

  public float[] y1() {
    return y1;
  }

  public float[] cx() {
    return cx;
  }

  public float[] cy() {
    return cy;
  }

  public float[] bw() {
    return bw;
  }

  public float[] bh() {
    return bh;
  }

  public float[] area() {
    return area;
  }
}

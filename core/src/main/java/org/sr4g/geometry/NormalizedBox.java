package org.sr4g.geometry;

/**
 * One box in image-relative coordinates, y pointing down, every field computed in IEEE float32 exactly as the relation
 * rules prescribe (see {@link #fromCoco}). Use {@link BoxTable} for many boxes; this record is for single checks
 * (evaluation, tests).
 */
public record NormalizedBox(
    float x0, float y0, float x1, float y1, float cx, float cy, float bw, float bh, float area) {

  /**
   * Normalizes a COCO box {@code [x, y, w, h]} in pixels by the image size {@code W x H}. The order of float
   * operations is part of the SR4G definition: changing it changes which relations hold at the boundaries.
   */
  public static NormalizedBox fromCoco(float x, float y, float w, float h, float imageWidth, float imageHeight) {
    float x0 = x / imageWidth;
    float y0 = y / imageHeight;
    float x1 = (x + w) / imageWidth;
    float y1 = (y + h) / imageHeight;
    float bw = w / imageWidth;
    float bh = h / imageHeight;
    return new NormalizedBox(x0, y0, x1, y1, (x0 + x1) / 2f, (y0 + y1) / 2f, bw, bh, bw * bh);
  }
}

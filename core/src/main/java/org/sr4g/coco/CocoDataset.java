package org.sr4g.coco;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The part of one or more COCO instance files that SR4G needs, in compact arrays: categories sorted by id, images
 * sorted by id, and the boxes of each image contiguous and sorted by annotation id. The sort makes everything
 * downstream independent of the input's order.
 *
 * <p>Box coordinates are kept twice: as float32 for the relation rules (the JSON double rounded to float, as a Python
 * reference doing {@code np.float32(value)} would), and as the exact JSON text of the bbox array, which is what the
 * output repeats, so outputs never depend on a JDK's double-to-string formatting.
 */
public final class CocoDataset {
  /**
   * Image columns, sorted by id. {@code widthText}/{@code heightText} are the input's number text (the output
   * repeats them verbatim); the boxes of image i are {@code [boxStart[i], boxStart[i+1])}.
   */
  record Images(
      long[] ids, String[] fileNames, String[] widthText, String[] heightText, float[] width, float[] height,
      int[] boxStart) {}

  /**
   * Box columns, grouped by image and sorted by annotation id. {@code category} holds dense category indices; the
   * bbox's compact JSON text of box b is {@code bboxText[bboxTextStart[b], bboxTextStart[b+1])}.
   */
  record Boxes(
      long[] annotationIds, int[] category, float[] x, float[] y, float[] w, float[] h, boolean[] crowd,
      byte[] bboxText, int[] bboxTextStart) {}

  final int[] categoryIds;
  final String[] categoryNames;
  final Images images;
  final Boxes boxes;
  final EnumMap<DropReason, Long> dropped;
  final List<CocoSource> sources;

  CocoDataset(
      int[] categoryIds, String[] categoryNames, Images images, Boxes boxes, EnumMap<DropReason, Long> dropped,
      List<CocoSource> sources) {
    this.categoryIds = categoryIds;
    this.categoryNames = categoryNames;
    this.images = images;
    this.boxes = boxes;
    this.dropped = dropped;
    this.sources = sources;
  }

  public int categoryCount() {
    return categoryIds.length;
  }

  /** COCO id of the category at dense index {@code c} (dense indices follow id order). */
  public int categoryId(int c) {
    return categoryIds[c];
  }

  public String categoryName(int c) {
    return categoryNames[c];
  }

  /** Dense index of a COCO category id, or -1. */
  public int categoryIndexOfId(int id) {
    int i = Arrays.binarySearch(categoryIds, id);
    return i >= 0 ? i : -1;
  }

  /** Dense index of a category name, or -1. */
  public int categoryIndexOfName(String name) {
    for (int i = 0; i < categoryNames.length; i++) if (categoryNames[i].equals(name)) return i;
    return -1;
  }

  // ---- images (i = rank by id) ----

  public int imageCount() { return images.ids.length; }

  public long imageId(int i) { return images.ids[i]; }

  public String fileName(int i) { return images.fileNames[i]; }

  /** Image width as written in the input (the output repeats it verbatim). */
  public String widthText(int i) { return images.widthText[i]; }

  public String heightText(int i) { return images.heightText[i]; }

  public float imageWidth(int i) { return images.width[i]; }

  public float imageHeight(int i) { return images.height[i]; }

  public int firstBox(int image) { return images.boxStart[image]; }

  public int endBox(int image) { return images.boxStart[image + 1]; }

  // ---- boxes (b = position in image-then-annotation-id order; dropped ones excluded) ----

  public int boxCount() { return boxes.annotationIds.length; }

  public long annotationId(int b) { return boxes.annotationIds[b]; }

  /** Dense category index of box {@code b}. */
  public int boxCategory(int b) { return boxes.category[b]; }

  public float x(int b) { return boxes.x[b]; }

  public float y(int b) { return boxes.y[b]; }

  public float w(int b) { return boxes.w[b]; }

  public float h(int b) { return boxes.h[b]; }

  public boolean crowd(int b) { return boxes.crowd[b]; }

  /** The bbox as compact JSON text, e.g. {@code [473.07,395.93,38.65,28.67]}, exactly the input's numbers. */
  public String bboxJson(int b) {
    return new String(boxes.bboxText, bboxStart(b), bboxJsonLength(b), StandardCharsets.US_ASCII);
  }

  /** The arena holding every box's bbox JSON text ({@link #bboxStart} and {@link #bboxJsonLength} locate one). */
  public byte[] bboxTextArena() {
    return boxes.bboxText;
  }

  public int bboxStart(int b) {
    return boxes.bboxTextStart[b];
  }

  public int bboxJsonLength(int b) {
    return boxes.bboxTextStart[b + 1] - boxes.bboxTextStart[b];
  }

  /** Boxes dropped while reading, by reason (only reasons decided at read time). */
  public Map<DropReason, Long> dropped() {
    return dropped;
  }

  public List<CocoSource> sources() {
    return sources;
  }
}

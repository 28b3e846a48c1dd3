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
  final int[] categoryIds;
  final String[] categoryNames;
  final long[] imageIds;
  final String[] fileNames;
  final String[] widthText;
  final String[] heightText;
  final float[] imageWidth;
  final float[] imageHeight;
  /** Boxes of image i are [imageStart[i], imageStart[i+1]). */
  final int[] imageStart;
  final long[] annotationIds;
  final int[] categoryIndex;
  final float[] x, y, w, h;
  final boolean[] crowd;
  final byte[] bboxText;
  final int[] bboxTextStart;
  final EnumMap<DropReason, Long> dropped;
  final List<CocoSource> sources;

  CocoDataset(
      int[] categoryIds, String[] categoryNames, long[] imageIds, String[] fileNames, String[] widthText,
      String[] heightText, float[] imageWidth, float[] imageHeight, int[] imageStart, long[] annotationIds,
      int[] categoryIndex, float[] x, float[] y, float[] w, float[] h, boolean[] crowd, byte[] bboxText,
      int[] bboxTextStart, EnumMap<DropReason, Long> dropped, List<CocoSource> sources) {
    this.categoryIds = categoryIds;
    this.categoryNames = categoryNames;
    this.imageIds = imageIds;
    this.fileNames = fileNames;
    this.widthText = widthText;
    this.heightText = heightText;
    this.imageWidth = imageWidth;
    this.imageHeight = imageHeight;
    this.imageStart = imageStart;
    this.annotationIds = annotationIds;
    this.categoryIndex = categoryIndex;
    this.x = x;
    this.y = y;
    this.w = w;
    this.h = h;
    this.crowd = crowd;
    this.bboxText = bboxText;
    this.bboxTextStart = bboxTextStart;
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

  public int imageCount() {
    return imageIds.length;
  }

  public long imageId(int i) {
    return imageIds[i];
  }

  public String fileName(int i) {
    return fileNames[i];
  }

  /** Image width as written in the input (the output repeats it verbatim). */
  public String widthText(int i) {
    return widthText[i];
  }

  public String heightText(int i) {
    return heightText[i];
  }

  public float imageWidth(int i) {
    return imageWidth[i];
  }

  public float imageHeight(int i) {
    return imageHeight[i];
  }

  public int firstBox(int image) {
    return imageStart[image];
  }

  public int endBox(int image) {
    return imageStart[image + 1];
  }

  /** Boxes kept after reading (dropped ones excluded). */
  public int boxCount() {
    return annotationIds.length;
  }

  public long annotationId(int b) {
    return annotationIds[b];
  }

  public int boxCategory(int b) {
    return categoryIndex[b];
  }

  public float x(int b) {
    return x[b];
  }

  public float y(int b) {
    return y[b];
  }

  public float w(int b) {
    return w[b];
  }

  public float h(int b) {
    return h[b];
  }

  public boolean crowd(int b) {
    return crowd[b];
  }

  /** The bbox as compact JSON text, e.g. {@code [473.07,395.93,38.65,28.67]}, exactly the input's numbers. */
  public String bboxJson(int b) {
    return new String(bboxText, bboxTextStart[b], bboxTextStart[b + 1] - bboxTextStart[b], StandardCharsets.US_ASCII);
  }

  /** Appends the bbox JSON bytes of box {@code b} to {@code out} at {@code pos}; returns the new position. */
  public int copyBboxJson(int b, byte[] out, int pos) {
    int from = bboxTextStart[b], len = bboxTextStart[b + 1] - from;
    System.arraycopy(bboxText, from, out, pos, len);
    return pos + len;
  }

  public int bboxJsonLength(int b) {
    return bboxTextStart[b + 1] - bboxTextStart[b];
  }

  /** Boxes dropped while reading, by reason (only reasons decided at read time). */
  public Map<DropReason, Long> dropped() {
    return dropped;
  }

  public List<CocoSource> sources() {
    return sources;
  }
}

package org.sr4g.spark;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.CocoDatasetBuilder;
import org.sr4g.coco.DropReason;

/**
 * Turns a partition's image groups (one row per image: image_id and the array of its box rows) into small {@link
 * CocoDataset}s of up to {@code imagesPerBatch} images, which then go through exactly the core code {@code sr4g
 * generate} runs. Checks every row on the way and counts what it rejects ({@link Problem}) or drops for the reasons
 * the COCO reader has ({@link DropReason#NON_FINITE}, {@link DropReason#NON_POSITIVE_SIZE}). Nothing here depends on
 * the order of the rows inside a group: the builder sorts boxes by annotation id.
 */
final class ImageBatches {
  private final JobConfig cfg;
  private final Iterator<Row> groups;
  private final Counters counters;

  ImageBatches(JobConfig cfg, Iterator<Row> groups, Counters counters) {
    this.cfg = cfg;
    this.groups = groups;
    this.counters = counters;
  }

  /** The next batch, or null at the end of the partition. */
  CocoDataset next() {
    CocoDatasetBuilder b = new CocoDatasetBuilder(cfg.categoryIds, cfg.categoryNames);
    while (b.imageCount() < cfg.imagesPerBatch && groups.hasNext()) addImage(groups.next(), b);
    return b.imageCount() == 0 ? null : b.build();
  }

  private static boolean isNull(Row r, int i) {
    return r.isNullAt(i);
  }

  /** A row that only declares a category (image_id null) or an image without boxes (annotation_id null). */
  private static boolean noBox(Row r) {
    return isNull(r, BoxColumns.ANNOTATION_ID) && isNull(r, BoxColumns.X) && isNull(r, BoxColumns.Y) && isNull(r, BoxColumns.W)
        && isNull(r, BoxColumns.H);
  }

  private void reject(Problem p, long rows) {
    counters.problems[p.ordinal()] += rows;
  }

  private void addImage(Row group, CocoDatasetBuilder b) {
    List<Row> rows = group.getList(1);
    if (group.isNullAt(0)) {
      // Category declarations are fine here; anything else lacks its image id.
      long bad = 0;
      for (Row r : rows) if (!(noBox(r) && !isNull(r, BoxColumns.CATEGORY_ID) && isNull(r, BoxColumns.FILE_NAME))) bad++;
      reject(Problem.MISSING_FIELD, bad);
      return;
    }
    long imageId = group.getLong(0);
    // Image fields: every non-null value must agree.
    String fileName = null;
    Double width = null, height = null;
    boolean conflict = false;
    for (Row r : rows) {
      if (!isNull(r, BoxColumns.FILE_NAME)) {
        String f = r.getString(BoxColumns.FILE_NAME);
        if (fileName == null) fileName = f;
        else conflict |= !fileName.equals(f);
      }
      if (!isNull(r, BoxColumns.WIDTH)) {
        double v = r.getDouble(BoxColumns.WIDTH);
        if (width == null) width = v;
        else conflict |= Double.compare(width, v) != 0;
      }
      if (!isNull(r, BoxColumns.HEIGHT)) {
        double v = r.getDouble(BoxColumns.HEIGHT);
        if (height == null) height = v;
        else conflict |= Double.compare(height, v) != 0;
      }
    }
    if (conflict) {
      reject(Problem.CONFLICTING_IMAGE, rows.size());
      return;
    }
    if (fileName == null || width == null || height == null) {
      reject(Problem.MISSING_FIELD, rows.size());
      return;
    }
    if (!(width > 0 && height > 0 && Double.isFinite(width) && Double.isFinite(height))) {
      reject(Problem.INVALID_IMAGE_SIZE, rows.size());
      return;
    }
    int image = b.addImage(imageId, fileName, numberText(width), numberText(height), (float) (double) width, (float) (double) height);
    counters.images++;
    // Duplicate annotation ids inside the image: every row with such an id is rejected.
    Map<Long, Integer> idCount = new HashMap<>();
    for (Row r : rows) if (!isNull(r, BoxColumns.ANNOTATION_ID)) idCount.merge(r.getLong(BoxColumns.ANNOTATION_ID), 1, Integer::sum);
    for (Row r : rows) {
      if (noBox(r) && isNull(r, BoxColumns.CATEGORY_ID)) continue; // an image without boxes
      if (isNull(r, BoxColumns.ANNOTATION_ID) || isNull(r, BoxColumns.CATEGORY_ID) || isNull(r, BoxColumns.X)
          || isNull(r, BoxColumns.Y) || isNull(r, BoxColumns.W) || isNull(r, BoxColumns.H)) {
        reject(Problem.MISSING_FIELD, 1);
        continue;
      }
      long ann = r.getLong(BoxColumns.ANNOTATION_ID);
      if (idCount.get(ann) > 1) {
        reject(Problem.DUPLICATE_ANNOTATION_ID, 1);
        continue;
      }
      long catId = r.getLong(BoxColumns.CATEGORY_ID);
      int cat = catId < Integer.MIN_VALUE || catId > Integer.MAX_VALUE ? -1 : Arrays.binarySearch(cfg.categoryIds, (int) catId);
      if (cat < 0) {
        reject(Problem.UNKNOWN_CATEGORY, 1);
        continue;
      }
      if (cfg.minScore != null && !isNull(r, BoxColumns.SCORE) && !(r.getDouble(BoxColumns.SCORE) >= cfg.minScore)) {
        reject(Problem.BELOW_MIN_SCORE, 1);
        continue;
      }
      counters.boxesRead++;
      double dx = r.getDouble(BoxColumns.X), dy = r.getDouble(BoxColumns.Y), dw = r.getDouble(BoxColumns.W), dh = r.getDouble(BoxColumns.H);
      // As the COCO reader does: JSON double rounded to float32, then the read-time checks.
      float x = (float) dx, y = (float) dy, w = (float) dw, h = (float) dh;
      if (!(Float.isFinite(x) && Float.isFinite(y) && Float.isFinite(w) && Float.isFinite(h))) {
        counters.readDropped[DropReason.NON_FINITE.ordinal()]++;
        continue;
      }
      if (!(w > 0 && h > 0)) {
        counters.readDropped[DropReason.NON_POSITIVE_SIZE.ordinal()]++;
        continue;
      }
      boolean crowd = !isNull(r, BoxColumns.ISCROWD) && r.getInt(BoxColumns.ISCROWD) == 1;
      String bbox = isNull(r, BoxColumns.BBOX_JSON) ? bboxText(dx, dy, dw, dh) : r.getString(BoxColumns.BBOX_JSON);
      counters.boxesByCategory[cat]++;
      b.addBox(image, ann, cat, x, y, w, h, crowd, bbox);
    }
  }

  /** Image width/height as output text: integers without a fraction (as COCO writes them), else Java's shortest form. */
  static String numberText(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
    return Double.toString(v);
  }

  /** The bbox text when the table has no bbox_json: each number as Java's {@link Double#toString(double)} writes it. */
  static String bboxText(double x, double y, double w, double h) {
    return "[" + x + "," + y + "," + w + "," + h + "]";
  }
}

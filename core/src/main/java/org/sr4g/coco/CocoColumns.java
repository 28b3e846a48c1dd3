package org.sr4g.coco;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.sr4g.UserInputException;

/**
 * The column store every reader fills: the records of a COCO file (or of a part of one, or of a batch of Spark rows)
 * in input order, in growable primitive columns. {@link #build} sorts, validates and freezes them into a
 * {@link CocoDataset}; since both readers ({@link CocoJsonParser}, {@link CocoScanner}) and the Spark job's
 * {@link CocoDatasetBuilder} end here, a dataset never depends on which of them read it.
 */
final class CocoColumns {
  boolean sawImages, sawAnnotations, sawCategories;
  final Map<Integer, String> categories = new HashMap<>();
  long[] imageIds = {};
  String[] fileNames = {};
  String[] widthText = {}, heightText = {};
  float[] imageW = {}, imageH = {};
  byte[] imageFile = {};
  int images;

  long[] annIds = {}, annImage = {};
  int[] annCategory = {};
  float[] ax = {}, ay = {}, aw = {}, ah = {};
  boolean[] annCrowd = {};
  byte[] annFile = {};
  /** The bbox texts of all annotations back to back; annotation {@code a}'s is {@code [textStart[a], textStart[a + 1])}. */
  byte[] text;
  int[] textStart = {};
  int anns;
  final EnumMap<DropReason, Long> dropped = new EnumMap<>(DropReason.class);

  /**
   * One column array of a record kind, read and replaced through these, so that allocating, growing and appending
   * are written once for every column; the hot path ({@link #addImage}, {@link #addAnnotation}) writes the typed
   * fields directly.
   */
  private record Column(Function<CocoColumns, Object> get, BiConsumer<CocoColumns, Object> set) {}

  private static final List<Column> IMAGE_COLUMNS = List.of(
      new Column(c -> c.imageIds, (c, a) -> c.imageIds = (long[]) a),
      new Column(c -> c.fileNames, (c, a) -> c.fileNames = (String[]) a),
      new Column(c -> c.widthText, (c, a) -> c.widthText = (String[]) a),
      new Column(c -> c.heightText, (c, a) -> c.heightText = (String[]) a),
      new Column(c -> c.imageW, (c, a) -> c.imageW = (float[]) a),
      new Column(c -> c.imageH, (c, a) -> c.imageH = (float[]) a),
      new Column(c -> c.imageFile, (c, a) -> c.imageFile = (byte[]) a));

  /** The annotation columns but {@link #text} and {@link #textStart}, which are indexed differently. */
  private static final List<Column> ANNOTATION_COLUMNS = List.of(
      new Column(c -> c.annIds, (c, a) -> c.annIds = (long[]) a),
      new Column(c -> c.annImage, (c, a) -> c.annImage = (long[]) a),
      new Column(c -> c.annCategory, (c, a) -> c.annCategory = (int[]) a),
      new Column(c -> c.ax, (c, a) -> c.ax = (float[]) a),
      new Column(c -> c.ay, (c, a) -> c.ay = (float[]) a),
      new Column(c -> c.aw, (c, a) -> c.aw = (float[]) a),
      new Column(c -> c.ah, (c, a) -> c.ah = (float[]) a),
      new Column(c -> c.annCrowd, (c, a) -> c.annCrowd = (boolean[]) a),
      new Column(c -> c.annFile, (c, a) -> c.annFile = (byte[]) a));

  CocoColumns() {
    this(1024, 8192);
  }

  /** Columns sized for about this many records (they grow as needed). */
  CocoColumns(int imageCapacity, int annotationCapacity) {
    int ic = Math.max(16, imageCapacity), ac = Math.max(16, annotationCapacity);
    growImages(ic);
    growAnnotations(ac);
    text = new byte[ac * 24];
  }

  void drop(DropReason r) {
    dropped.merge(r, 1L, Long::sum);
  }

  void checkSections(CocoSource src) {
    List<String> missing = new ArrayList<>();
    if (!sawImages) missing.add("images");
    if (!sawAnnotations) missing.add("annotations");
    if (!sawCategories) missing.add("categories");
    if (!missing.isEmpty()) {
      throw new UserInputException(src + ": not a COCO instances file: missing top-level " + String.join(", ", missing));
    }
  }

  /** The first category id that {@code o} names differently from this store, or null. */
  Integer conflictingCategory(CocoColumns o) {
    for (Map.Entry<Integer, String> e : o.categories.entrySet()) {
      String prev = categories.get(e.getKey());
      if (prev != null && !prev.equals(e.getValue())) return e.getKey();
    }
    return null;
  }

  /** Adds everything another store holds (a part of the same file, or another file). */
  void append(CocoColumns o) {
    Integer conflict = conflictingCategory(o);
    if (conflict != null) {
      throw new UserInputException("category id " + conflict + " is named \"" + o.categories.get(conflict)
          + "\" in one input and \"" + categories.get(conflict) + "\" in another");
    }
    sawImages |= o.sawImages;
    sawAnnotations |= o.sawAnnotations;
    sawCategories |= o.sawCategories;
    categories.putAll(o.categories);
    for (Map.Entry<DropReason, Long> e : o.dropped.entrySet()) dropped.merge(e.getKey(), e.getValue(), Long::sum);
    if (images + o.images > imageIds.length) growImages(Math.max(images * 2, images + o.images));
    copyRows(IMAGE_COLUMNS, o, images, o.images);
    images += o.images;
    if (anns + o.anns >= annIds.length) growAnnotations(Math.max(anns * 2, anns + o.anns + 1));
    copyRows(ANNOTATION_COLUMNS, o, anns, o.anns);
    int base = textStart[anns], more = o.textStart[o.anns];
    if (base + more > text.length) text = Arrays.copyOf(text, Math.max(text.length * 2, base + more));
    System.arraycopy(o.text, 0, text, base, more);
    for (int a = 1; a <= o.anns; a++) textStart[anns + a] = base + o.textStart[a];
    anns += o.anns;
  }

  void addImage(long id, String file, String wt, String ht, float w, float h, int fileIndex) {
    if (images == imageIds.length) growImages(images * 2);
    imageIds[images] = id;
    fileNames[images] = file;
    widthText[images] = wt;
    heightText[images] = ht;
    imageW[images] = w;
    imageH[images] = h;
    imageFile[images] = (byte) fileIndex;
    images++;
  }

  private void growImages(int n) {
    resize(IMAGE_COLUMNS, n);
  }

  /** {@code bbox[bboxFrom, bboxFrom + bboxLen)} is the bbox as compact JSON text, e.g. {@code [1.5,2,3,4]}. */
  void addAnnotation(
      long id, long imageId, int categoryId, float x, float y, float w, float h, boolean crowd, byte[] bbox, int bboxFrom,
      int bboxLen, int fileIndex) {
    if (anns == annIds.length) growAnnotations(anns * 2);
    int start = textStart[anns];
    if (start + bboxLen > text.length) text = Arrays.copyOf(text, Math.max(text.length * 2, start + bboxLen));
    System.arraycopy(bbox, bboxFrom, text, start, bboxLen);
    textStart[anns + 1] = start + bboxLen;
    annIds[anns] = id;
    annImage[anns] = imageId;
    annCategory[anns] = categoryId;
    ax[anns] = x;
    ay[anns] = y;
    aw[anns] = w;
    ah[anns] = h;
    annCrowd[anns] = crowd;
    annFile[anns] = (byte) fileIndex;
    anns++;
  }

  private void growAnnotations(int n) {
    resize(ANNOTATION_COLUMNS, n);
    textStart = Arrays.copyOf(textStart, n + 1);
  }

  /** Every array of {@code columns} made {@code n} long, keeping its first rows (as {@link Arrays#copyOf}). */
  private void resize(List<Column> columns, int n) {
    for (Column c : columns) {
      Object old = c.get().apply(this);
      Object grown = Array.newInstance(old.getClass().getComponentType(), n);
      System.arraycopy(old, 0, grown, 0, Math.min(n, Array.getLength(old)));
      c.set().accept(this, grown);
    }
  }

  /** {@code count} rows of {@code from}'s {@code columns} copied into this store's, from row {@code at}. */
  private void copyRows(List<Column> columns, CocoColumns from, int at, int count) {
    for (Column c : columns) System.arraycopy(c.get().apply(from), 0, c.get().apply(this), at, count);
  }

  /**
   * Sorts images by id and each image's boxes by annotation id, resolves references and freezes the result.
   *
   * @param uniqueAnnotationIds whether an annotation id seen twice anywhere is an error (COCO JSON); the Spark job
   *     rejects duplicates per image itself and lets ids repeat across images
   */
  CocoDataset build(List<CocoSource> sources, boolean lenient, boolean uniqueAnnotationIds) {
    return new DatasetAssembly(this, sources, lenient, uniqueAnnotationIds).dataset();
  }
}

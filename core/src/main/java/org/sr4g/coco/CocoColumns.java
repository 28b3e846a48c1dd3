package org.sr4g.coco;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
  long[] imageIds;
  String[] fileNames;
  String[] widthText, heightText;
  float[] imageW, imageH;
  byte[] imageFile;
  int images;

  long[] annIds, annImage;
  int[] annCategory;
  float[] ax, ay, aw, ah;
  boolean[] annCrowd;
  byte[] annFile;
  byte[] text;
  int[] textStart;
  int anns;
  final EnumMap<DropReason, Long> dropped = new EnumMap<>(DropReason.class);

  CocoColumns() {
    this(1024, 8192);
  }

  /** Columns sized for about this many records (they grow as needed). */
  CocoColumns(int imageCapacity, int annotationCapacity) {
    int ic = Math.max(16, imageCapacity), ac = Math.max(16, annotationCapacity);
    imageIds = new long[ic];
    fileNames = new String[ic];
    widthText = new String[ic];
    heightText = new String[ic];
    imageW = new float[ic];
    imageH = new float[ic];
    imageFile = new byte[ic];
    annIds = new long[ac];
    annImage = new long[ac];
    annCategory = new int[ac];
    ax = new float[ac];
    ay = new float[ac];
    aw = new float[ac];
    ah = new float[ac];
    annCrowd = new boolean[ac];
    annFile = new byte[ac];
    text = new byte[ac * 24];
    textStart = new int[ac + 1];
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
    System.arraycopy(o.imageIds, 0, imageIds, images, o.images);
    System.arraycopy(o.fileNames, 0, fileNames, images, o.images);
    System.arraycopy(o.widthText, 0, widthText, images, o.images);
    System.arraycopy(o.heightText, 0, heightText, images, o.images);
    System.arraycopy(o.imageW, 0, imageW, images, o.images);
    System.arraycopy(o.imageH, 0, imageH, images, o.images);
    System.arraycopy(o.imageFile, 0, imageFile, images, o.images);
    images += o.images;
    if (anns + o.anns >= annIds.length) growAnnotations(Math.max(anns * 2, anns + o.anns + 1));
    System.arraycopy(o.annIds, 0, annIds, anns, o.anns);
    System.arraycopy(o.annImage, 0, annImage, anns, o.anns);
    System.arraycopy(o.annCategory, 0, annCategory, anns, o.anns);
    System.arraycopy(o.ax, 0, ax, anns, o.anns);
    System.arraycopy(o.ay, 0, ay, anns, o.anns);
    System.arraycopy(o.aw, 0, aw, anns, o.anns);
    System.arraycopy(o.ah, 0, ah, anns, o.anns);
    System.arraycopy(o.annCrowd, 0, annCrowd, anns, o.anns);
    System.arraycopy(o.annFile, 0, annFile, anns, o.anns);
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
    imageIds = Arrays.copyOf(imageIds, n);
    fileNames = Arrays.copyOf(fileNames, n);
    widthText = Arrays.copyOf(widthText, n);
    heightText = Arrays.copyOf(heightText, n);
    imageW = Arrays.copyOf(imageW, n);
    imageH = Arrays.copyOf(imageH, n);
    imageFile = Arrays.copyOf(imageFile, n);
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
    annIds = Arrays.copyOf(annIds, n);
    annImage = Arrays.copyOf(annImage, n);
    annCategory = Arrays.copyOf(annCategory, n);
    ax = Arrays.copyOf(ax, n);
    ay = Arrays.copyOf(ay, n);
    aw = Arrays.copyOf(aw, n);
    ah = Arrays.copyOf(ah, n);
    annCrowd = Arrays.copyOf(annCrowd, n);
    annFile = Arrays.copyOf(annFile, n);
    textStart = Arrays.copyOf(textStart, n + 1);
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

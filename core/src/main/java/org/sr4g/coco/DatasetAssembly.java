package org.sr4g.coco;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import org.sr4g.UserInputException;

/**
 * Turns {@link CocoColumns} (records in input order) into a {@link CocoDataset}: categories and images sorted by id,
 * each image's boxes contiguous and sorted by annotation id, references resolved. Errors here (duplicate ids, unknown
 * references) name files and ids but no positions, so they read the same whichever reader filled the columns.
 */
final class DatasetAssembly {
  private final CocoColumns c;
  private final List<CocoSource> sources;
  private final boolean lenient;
  private final boolean uniqueAnnotationIds;
  private int[] catIds;
  private String[] catNames;
  /** Input index of the image at each sorted position. */
  private int[] order;
  private long[] sortedImageIds;
  /** Dataset box k is input annotation slot[k]; boxes of image i are [imageStart[i], imageStart[i+1]). */
  private int[] slot;
  private int[] imageStart;
  private int[] catIndex;

  DatasetAssembly(CocoColumns c, List<CocoSource> sources, boolean lenient, boolean uniqueAnnotationIds) {
    this.c = c;
    this.sources = sources;
    this.lenient = lenient;
    this.uniqueAnnotationIds = uniqueAnnotationIds;
  }

  CocoDataset dataset() {
    catIds = c.categories.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
    catNames = new String[catIds.length];
    for (int i = 0; i < catIds.length; i++) catNames[i] = c.categories.get(catIds[i]);
    sortImages();
    groupBoxes();
    if (uniqueAnnotationIds) requireUniqueAnnotationIds();
    return freeze();
  }

  /** Images by id (ties keep input order, so a duplicate is reported at its second occurrence). */
  private void sortImages() {
    int n = c.images;
    order = packedOrder(c.imageIds, n);
    if (order == null) {
      Integer[] boxed = new Integer[n];
      for (int i = 0; i < n; i++) boxed[i] = i;
      Arrays.sort(boxed, (a, b) -> Long.compare(c.imageIds[a], c.imageIds[b]));
      order = new int[n];
      for (int i = 0; i < n; i++) order[i] = boxed[i];
    }
    for (int k = 1; k < n; k++) {
      if (c.imageIds[order[k]] == c.imageIds[order[k - 1]]) {
        throw new UserInputException(
            sources.get(c.imageFile[order[k]]) + ": image id " + c.imageIds[order[k]] + " appears twice (also in "
                + sources.get(c.imageFile[order[k - 1]]) + ")");
      }
    }
    sortedImageIds = new long[n];
    for (int k = 0; k < n; k++) sortedImageIds[k] = c.imageIds[order[k]];
  }

  private static final int INDEX_BITS = 28;

  /**
   * The stable sort order of {@code ids} by one primitive sort of (id, index) packed into a long, when ids are
   * non-negative and small enough (COCO's are); null otherwise.
   */
  private static int[] packedOrder(long[] ids, int n) {
    if (n >= 1 << INDEX_BITS) return null;
    long[] packed = new long[n];
    for (int i = 0; i < n; i++) {
      if (ids[i] < 0 || ids[i] >= 1L << (63 - INDEX_BITS)) return null;
      packed[i] = ids[i] << INDEX_BITS | i;
    }
    Arrays.sort(packed);
    int[] out = new int[n];
    for (int k = 0; k < n; k++) out[k] = (int) (packed[k] & ((1 << INDEX_BITS) - 1));
    return out;
  }

  /** Resolves references (unknown ones are errors, or counted drops when lenient) and groups boxes by image. */
  private void groupBoxes() {
    int images = sortedImageIds.length;
    int[] rank = new int[c.anns];
    catIndex = new int[c.anns];
    int[] perImage = new int[images + 1];
    int kept = 0;
    for (int a = 0; a < c.anns; a++) {
      int r = Arrays.binarySearch(sortedImageIds, c.annImage[a]);
      int ci = Arrays.binarySearch(catIds, c.annCategory[a]);
      if (r < 0 || ci < 0) {
        unknownReference(a, r < 0);
        rank[a] = -1;
        continue;
      }
      rank[a] = r;
      catIndex[a] = ci;
      perImage[r + 1]++;
      kept++;
    }
    for (int i = 0; i < images; i++) perImage[i + 1] += perImage[i];
    imageStart = perImage;
    int[] fill = Arrays.copyOf(perImage, images);
    slot = new int[kept];
    for (int a = 0; a < c.anns; a++) if (rank[a] >= 0) slot[fill[rank[a]]++] = a;
    for (int i = 0; i < images; i++) sortByAnnotationId(imageStart[i], imageStart[i + 1]);
  }

  private void unknownReference(int a, boolean image) {
    if (!lenient) {
      String what = image ? "image_id " + c.annImage[a] : "category_id " + c.annCategory[a];
      throw new UserInputException(
          sources.get(c.annFile[a]) + ": annotation id " + c.annIds[a] + " refers to unknown " + what
              + " (use --lenient to drop and count such annotations)");
    }
    c.drop(image ? DropReason.UNKNOWN_IMAGE : DropReason.UNKNOWN_CATEGORY);
  }

  /** Insertion sort (stable; images hold few boxes). */
  private void sortByAnnotationId(int from, int to) {
    for (int k = from + 1; k < to; k++) {
      int v = slot[k];
      int m = k - 1;
      while (m >= from && c.annIds[slot[m]] > c.annIds[v]) {
        slot[m + 1] = slot[m];
        m--;
      }
      slot[m + 1] = v;
    }
  }

  private void requireUniqueAnnotationIds() {
    long[] sorted = new long[slot.length];
    for (int k = 0; k < slot.length; k++) sorted[k] = c.annIds[slot[k]];
    Arrays.sort(sorted);
    for (int k = 1; k < sorted.length; k++) {
      if (sorted[k] == sorted[k - 1]) throw duplicateAnnotation(sorted[k]);
    }
  }

  private UserInputException duplicateAnnotation(long id) {
    List<String> files = new ArrayList<>();
    for (int a = 0; a < c.anns; a++) if (c.annIds[a] == id) files.add(sources.get(c.annFile[a]).name());
    return new UserInputException(
        files.get(files.size() - 1) + ": annotation id " + id + " appears twice (also in " + files.get(0) + ")");
  }

  private CocoDataset freeze() {
    int images = order.length, kept = slot.length;
    CocoDataset.Images im = new CocoDataset.Images(sortedImageIds, new String[images], new String[images],
        new String[images], new float[images], new float[images], imageStart);
    for (int k = 0; k < images; k++) {
      int i = order[k];
      im.fileNames()[k] = c.fileNames[i];
      im.widthText()[k] = c.widthText[i];
      im.heightText()[k] = c.heightText[i];
      im.width()[k] = c.imageW[i];
      im.height()[k] = c.imageH[i];
    }
    int total = 0;
    for (int k = 0; k < kept; k++) total += c.textStart[slot[k] + 1] - c.textStart[slot[k]];
    CocoDataset.Boxes bx = new CocoDataset.Boxes(new long[kept], new int[kept], new float[kept], new float[kept],
        new float[kept], new float[kept], new boolean[kept], new byte[total], new int[kept + 1]);
    for (int k = 0; k < kept; k++) {
      int a = slot[k];
      bx.annotationIds()[k] = c.annIds[a];
      bx.category()[k] = catIndex[a];
      bx.x()[k] = c.ax[a];
      bx.y()[k] = c.ay[a];
      bx.w()[k] = c.aw[a];
      bx.h()[k] = c.ah[a];
      bx.crowd()[k] = c.annCrowd[a];
      int len = c.textStart[a + 1] - c.textStart[a];
      System.arraycopy(c.text, c.textStart[a], bx.bboxText(), bx.bboxTextStart()[k], len);
      bx.bboxTextStart()[k + 1] = bx.bboxTextStart()[k] + len;
    }
    return new CocoDataset(catIds, catNames, im, bx, new EnumMap<>(c.dropped), List.copyOf(sources));
  }
}

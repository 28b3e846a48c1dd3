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
    IdIndex imageIndex = IdIndex.of(sortedImageIds, sortedImageIds.length);
    long[] categoryIds = new long[catIds.length];
    for (int i = 0; i < catIds.length; i++) categoryIds[i] = catIds[i];
    IdIndex categoryIndex = IdIndex.of(categoryIds, categoryIds.length);
    int kept = 0;
    for (int a = 0; a < c.anns; a++) {
      int r = imageIndex.indexOf(c.annImage[a]);
      int ci = categoryIndex.indexOf(c.annCategory[a]);
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

  /**
   * Where an id is in a sorted array of distinct ids: a direct table when the ids are dense enough (COCO's are: at most
   * a few unused ids per used one), else a binary search. Looking up two ids per annotation by binary search cost a
   * tenth of a second at train2017 size.
   */
  private static final class IdIndex {
    private final long[] sorted;
    private final int n;
    private final long min;
    private final int[] table; // index + 1 by id - min, 0 when absent; null: binary search

    private IdIndex(long[] sorted, int n, long min, int[] table) {
      this.sorted = sorted;
      this.n = n;
      this.min = min;
      this.table = table;
    }

    static IdIndex of(long[] sorted, int n) {
      if (n == 0) return new IdIndex(sorted, 0, 0, null);
      long min = sorted[0], span = sorted[n - 1] - min + 1;
      if (span <= 0 || span > 16L * n + 4096 || span > Integer.MAX_VALUE - 8) return new IdIndex(sorted, n, min, null);
      int[] table = new int[(int) span];
      for (int i = 0; i < n; i++) table[(int) (sorted[i] - min)] = i + 1;
      return new IdIndex(sorted, n, min, table);
    }

    int indexOf(long id) {
      if (table == null) return Arrays.binarySearch(sorted, 0, n, id);
      long at = id - min;
      return at < 0 || at >= table.length ? -1 : table[(int) at] - 1;
    }
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

  /** One bit per id when the ids are dense enough (a tenth of the sort's time at train2017 size), else a sort. */
  private void requireUniqueAnnotationIds() {
    long min = Long.MAX_VALUE, max = Long.MIN_VALUE;
    for (int a : slot) {
      min = Math.min(min, c.annIds[a]);
      max = Math.max(max, c.annIds[a]);
    }
    long span = max - min + 1;
    if (slot.length > 0 && span > 0 && span <= 64L * slot.length + 4096 && span <= (long) Integer.MAX_VALUE * 32) {
      long[] seen = new long[(int) ((span + 63) >>> 6)];
      for (int a : slot) {
        long at = c.annIds[a] - min;
        long bit = 1L << at; // shifts use the low six bits
        int word = (int) (at >>> 6);
        if ((seen[word] & bit) != 0) throw duplicateAnnotation(c.annIds[a]);
        seen[word] |= bit;
      }
      return;
    }
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

  /** The dataset's columns in sorted order: one short loop per column, which a cold JVM compiles and runs faster. */
  private CocoDataset freeze() {
    int images = order.length, kept = slot.length;
    String[] fileNames = new String[images], widthText = new String[images], heightText = new String[images];
    float[] width = new float[images], height = new float[images];
    for (int k = 0; k < images; k++) fileNames[k] = c.fileNames[order[k]];
    for (int k = 0; k < images; k++) widthText[k] = c.widthText[order[k]];
    for (int k = 0; k < images; k++) heightText[k] = c.heightText[order[k]];
    for (int k = 0; k < images; k++) width[k] = c.imageW[order[k]];
    for (int k = 0; k < images; k++) height[k] = c.imageH[order[k]];
    CocoDataset.Images im = new CocoDataset.Images(sortedImageIds, fileNames, widthText, heightText, width, height, imageStart);
    int[] textStart = new int[kept + 1];
    for (int k = 0; k < kept; k++) textStart[k + 1] = textStart[k] + c.textStart[slot[k] + 1] - c.textStart[slot[k]];
    byte[] text = new byte[textStart[kept]];
    for (int k = 0; k < kept; k++) {
      System.arraycopy(c.text, c.textStart[slot[k]], text, textStart[k], textStart[k + 1] - textStart[k]);
    }
    CocoDataset.Boxes bx = new CocoDataset.Boxes(gather(c.annIds, slot), gather(catIndex, slot), gather(c.ax, slot),
        gather(c.ay, slot), gather(c.aw, slot), gather(c.ah, slot), gather(c.annCrowd, slot), text, textStart);
    return new CocoDataset(catIds, catNames, im, bx, new EnumMap<>(c.dropped), List.copyOf(sources));
  }

  private static long[] gather(long[] from, int[] at) {
    long[] out = new long[at.length];
    for (int k = 0; k < at.length; k++) out[k] = from[at[k]];
    return out;
  }

  private static int[] gather(int[] from, int[] at) {
    int[] out = new int[at.length];
    for (int k = 0; k < at.length; k++) out[k] = from[at[k]];
    return out;
  }

  private static float[] gather(float[] from, int[] at) {
    float[] out = new float[at.length];
    for (int k = 0; k < at.length; k++) out[k] = from[at[k]];
    return out;
  }

  private static boolean[] gather(boolean[] from, int[] at) {
    boolean[] out = new boolean[at.length];
    for (int k = 0; k < at.length; k++) out[k] = from[at[k]];
    return out;
  }
}

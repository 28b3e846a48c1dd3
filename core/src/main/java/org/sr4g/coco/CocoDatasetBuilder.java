package org.sr4g.coco;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;

/**
 * Builds a {@link CocoDataset} from already validated records, for callers that do not read COCO JSON (the Spark job
 * builds one small dataset per batch of images from box-table rows). Images are sorted by id and each image's boxes
 * by annotation id in {@link #build()}, so the result does not depend on the order of the calls, exactly as for
 * {@link CocoReader}. No validation is done here: the caller has already counted and removed bad rows.
 */
public final class CocoDatasetBuilder {
  private final int[] categoryIds;
  private final String[] categoryNames;
  private long[] imageIds = new long[16];
  private String[] fileNames = new String[16], widthText = new String[16], heightText = new String[16];
  private float[] imageW = new float[16], imageH = new float[16];
  private int images;
  private int[] boxImage = new int[64];
  private long[] annIds = new long[64];
  private int[] cat = new int[64];
  private float[] x = new float[64], y = new float[64], w = new float[64], h = new float[64];
  private boolean[] crowd = new boolean[64];
  private String[] bbox = new String[64];
  private int boxes;

  /** @param categoryIds sorted ascending; dense category indices are positions in this array */
  public CocoDatasetBuilder(int[] categoryIds, String[] categoryNames) {
    for (int i = 1; i < categoryIds.length; i++) {
      if (categoryIds[i] <= categoryIds[i - 1]) throw new IllegalArgumentException("category ids must be sorted and unique");
    }
    this.categoryIds = categoryIds.clone();
    this.categoryNames = categoryNames.clone();
  }

  /** Adds an image; returns its handle for {@link #addBox}. */
  public int addImage(long id, String fileName, String widthText, String heightText, float width, float height) {
    if (images == imageIds.length) {
      int n = images * 2;
      imageIds = Arrays.copyOf(imageIds, n);
      fileNames = Arrays.copyOf(fileNames, n);
      this.widthText = Arrays.copyOf(this.widthText, n);
      this.heightText = Arrays.copyOf(this.heightText, n);
      imageW = Arrays.copyOf(imageW, n);
      imageH = Arrays.copyOf(imageH, n);
    }
    imageIds[images] = id;
    fileNames[images] = fileName;
    this.widthText[images] = widthText;
    this.heightText[images] = heightText;
    imageW[images] = width;
    imageH[images] = height;
    return images++;
  }

  /**
   * Adds a box of image {@code image} (a handle from {@link #addImage}); {@code categoryIndex} is a dense index into
   * the constructor's arrays; {@code bboxJson} is the compact JSON text written to the output, e.g. {@code [1.5,2,3,4]}.
   */
  public void addBox(int image, long annotationId, int categoryIndex, float bx, float by, float bw, float bh, boolean isCrowd, String bboxJson) {
    if (boxes == annIds.length) {
      int n = boxes * 2;
      boxImage = Arrays.copyOf(boxImage, n);
      annIds = Arrays.copyOf(annIds, n);
      cat = Arrays.copyOf(cat, n);
      x = Arrays.copyOf(x, n);
      y = Arrays.copyOf(y, n);
      w = Arrays.copyOf(w, n);
      h = Arrays.copyOf(h, n);
      crowd = Arrays.copyOf(crowd, n);
      bbox = Arrays.copyOf(bbox, n);
    }
    boxImage[boxes] = image;
    annIds[boxes] = annotationId;
    cat[boxes] = categoryIndex;
    x[boxes] = bx;
    y[boxes] = by;
    w[boxes] = bw;
    h[boxes] = bh;
    crowd[boxes] = isCrowd;
    bbox[boxes] = bboxJson;
    boxes++;
  }

  public int imageCount() {
    return images;
  }

  public CocoDataset build() {
    Integer[] io = new Integer[images];
    for (int i = 0; i < images; i++) io[i] = i;
    Arrays.sort(io, (a, b) -> Long.compare(imageIds[a], imageIds[b]));
    int[] rank = new int[images];
    for (int k = 0; k < images; k++) rank[io[k]] = k;
    Integer[] bo = new Integer[boxes];
    for (int i = 0; i < boxes; i++) bo[i] = i;
    Arrays.sort(bo, (a, b) -> {
      int c = Integer.compare(rank[boxImage[a]], rank[boxImage[b]]);
      return c != 0 ? c : Long.compare(annIds[a], annIds[b]);
    });
    long[] ids = new long[images];
    String[] fn = new String[images], wt = new String[images], ht = new String[images];
    float[] iw = new float[images], ih = new float[images];
    for (int k = 0; k < images; k++) {
      int i = io[k];
      ids[k] = imageIds[i];
      fn[k] = fileNames[i];
      wt[k] = widthText[i];
      ht[k] = heightText[i];
      iw[k] = imageW[i];
      ih[k] = imageH[i];
    }
    int[] start = new int[images + 1];
    long[] aid = new long[boxes];
    int[] ci = new int[boxes];
    float[] bx = new float[boxes], by = new float[boxes], bw = new float[boxes], bh = new float[boxes];
    boolean[] cr = new boolean[boxes];
    int[] ts = new int[boxes + 1];
    int textLen = 0;
    byte[][] texts = new byte[boxes][];
    for (int k = 0; k < boxes; k++) {
      int b = bo[k];
      start[rank[boxImage[b]] + 1]++;
      aid[k] = annIds[b];
      ci[k] = cat[b];
      bx[k] = x[b];
      by[k] = y[b];
      bw[k] = w[b];
      bh[k] = h[b];
      cr[k] = crowd[b];
      texts[k] = bbox[b].getBytes(StandardCharsets.US_ASCII);
      textLen += texts[k].length;
    }
    for (int i = 0; i < images; i++) start[i + 1] += start[i];
    byte[] text = new byte[textLen];
    for (int k = 0, p = 0; k < boxes; k++) {
      System.arraycopy(texts[k], 0, text, p, texts[k].length);
      p += texts[k].length;
      ts[k + 1] = p;
    }
    return new CocoDataset(
        categoryIds.clone(), categoryNames.clone(), ids, fn, wt, ht, iw, ih, start, aid, ci, bx, by, bw, bh, cr, text, ts,
        new EnumMap<>(DropReason.class), List.of());
  }
}

package org.sr4g.coco;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Builds a {@link CocoDataset} from already validated records, for callers that do not read COCO JSON (the Spark job
 * builds one small dataset per batch of images from box-table rows). It fills the same column store as
 * {@link CocoReader} ({@link CocoColumns}) and builds through it, so images are sorted by id and each image's boxes by annotation id in
 * {@link #build()} exactly as for a JSON input, whatever the order of the calls. The caller has already counted and
 * removed bad rows (annotation ids may repeat across images, as before); a repeated image id is a programming error.
 */
public final class CocoDatasetBuilder {
  private final int[] categoryIds;
  private final CocoColumns columns = new CocoColumns();

  /** @param categoryIds sorted ascending; dense category indices are positions in this array */
  public CocoDatasetBuilder(int[] categoryIds, String[] categoryNames) {
    if (categoryIds.length != categoryNames.length) throw new IllegalArgumentException("one name per category id");
    for (int i = 1; i < categoryIds.length; i++) {
      if (categoryIds[i] <= categoryIds[i - 1]) throw new IllegalArgumentException("category ids must be sorted and unique");
    }
    this.categoryIds = categoryIds.clone();
    for (int i = 0; i < categoryIds.length; i++) columns.categories.put(categoryIds[i], categoryNames[i]);
    columns.sawImages = columns.sawAnnotations = columns.sawCategories = true;
  }

  /** Adds an image; returns its handle for {@link #addBox}. */
  public int addImage(long id, String fileName, String widthText, String heightText, float width, float height) {
    columns.addImage(id, fileName, widthText, heightText, width, height, 0);
    return columns.images - 1;
  }

  /**
   * Adds a box of image {@code image} (a handle from {@link #addImage}); {@code categoryIndex} is a dense index into
   * the constructor's arrays; {@code bboxJson} is the compact JSON text written to the output, e.g. {@code [1.5,2,3,4]}.
   */
  public void addBox(int image, long annotationId, int categoryIndex, float bx, float by, float bw, float bh, boolean isCrowd, String bboxJson) {
    byte[] text = bboxJson.getBytes(StandardCharsets.US_ASCII);
    columns.addAnnotation(annotationId, columns.imageIds[image], categoryIds[categoryIndex], bx, by, bw, bh, isCrowd, text, 0,
        text.length, 0);
  }

  public int imageCount() {
    return columns.images;
  }

  public CocoDataset build() {
    return columns.build(List.of(), false, false);
  }
}

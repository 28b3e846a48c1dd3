package org.sr4g.spark;

/**
 * Box-table rows that cannot be used, by reason: counted and reported in stats.json's {@code rejected_rows} (and
 * manifest.json), or the job fails with {@code --strict}. Rows dropped for reasons {@code sr4g generate} also has
 * (non-finite values, non-positive size, crowd, ...) are counted under {@code dropped_boxes} as there.
 */
public enum Problem {
  /** A required field is null (image_id, file_name, width, height, annotation_id, category_id, x, y, w, h). */
  MISSING_FIELD("missing_field", true),
  /** The rows of one image disagree on file_name, width or height: the whole image is rejected. */
  CONFLICTING_IMAGE("conflicting_image", true),
  /** Image width or height not finite or not positive: the whole image is rejected. */
  INVALID_IMAGE_SIZE("invalid_image_size", true),
  /** The same annotation id twice in one image: every row with that id is rejected. */
  DUPLICATE_ANNOTATION_ID("duplicate_annotation_id", true),
  /** A category id that no row names (category null everywhere). */
  UNKNOWN_CATEGORY("unknown_category", true),
  /**
   * With {@code --check-ids}: rows whose annotation id is also used in another image. Counted, not dropped (the
   * emission hash includes the image id, so their rows stay well defined); needs a shuffle by annotation id.
   */
  ANNOTATION_ID_IN_SEVERAL_IMAGES("annotation_id_in_several_images", true),
  /** {@code score < --min-score} (a filter, not an error: --strict ignores it). */
  BELOW_MIN_SCORE("below_min_score", false);

  private final String key;
  private final boolean error;

  Problem(String key, boolean error) {
    this.key = key;
    this.error = error;
  }

  public String key() {
    return key;
  }

  /** Whether {@code --strict} fails on it. */
  public boolean isError() {
    return error;
  }
}

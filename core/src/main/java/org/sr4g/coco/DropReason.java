package org.sr4g.coco;

/** Why a box does not take part in pairs. Counted, reported in stats.json, never silently lost. */
public enum DropReason {
  /** A bbox value is NaN or infinite (after rounding to float32). */
  NON_FINITE("non_finite"),
  /** {@code w <= 0} or {@code h <= 0}. */
  NON_POSITIVE_SIZE("non_positive_size"),
  /** {@code iscrowd == 1}: a region of many objects, not one object. */
  CROWD("crowd"),
  /** Smaller than {@code --min-area} (fraction of the image). */
  BELOW_MIN_AREA("below_min_area"),
  /** In an image with more eligible objects than {@code --max-objects}: the whole image is skipped. */
  MAX_OBJECTS("max_objects"),
  /** {@code --lenient}: the annotation's image id is not among the images. */
  UNKNOWN_IMAGE("unknown_image"),
  /** {@code --lenient}: the annotation's category id is not among the categories. */
  UNKNOWN_CATEGORY("unknown_category");

  private final String key;

  DropReason(String key) {
    this.key = key;
  }

  /** The key used in stats.json. */
  public String key() {
    return key;
  }
}

package org.sr4g.spark;

import java.util.Locale;

/** How export-boxes and synth-boxes store a box table. */
public enum TableFormat {
  JSONL,
  PARQUET;

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}

package org.sr4g.spark;

import java.util.Locale;

/** {@code --output-format}: rows as JSONL lines (byte-identical to generate's) or Parquet columns. */
public enum OutputFormat {
  JSONL,
  PARQUET,
  /** Measurement only: every row is rendered, nothing is written (hidden from --help). */
  NOOP;

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}

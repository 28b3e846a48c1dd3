package org.sr4g.spark;

import java.util.Locale;

/** {@code --input-format}: how box tables are stored; {@code auto} decides by the first path's extension or files. */
public enum InputFormat {
  AUTO,
  PARQUET,
  JSONL;

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}

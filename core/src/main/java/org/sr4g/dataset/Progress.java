package org.sr4g.dataset;

/** Receives progress of a long run (the CLI draws a bar on stderr). Called from the coordinating thread only. */
public interface Progress {
  Progress NONE = (phase, done, total) -> {};

  /** {@code done} out of {@code total} units (bytes while reading, images while relating) in {@code phase}. */
  void update(String phase, long done, long total);
}

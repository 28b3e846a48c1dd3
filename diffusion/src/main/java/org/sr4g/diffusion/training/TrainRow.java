package org.sr4g.diffusion.training;

/** One row of {@code train.jsonl} as training reads it (see docs/formats.md); {@code line} is 1-based, for messages. */
public record TrainRow(String fileName, String caption, String relation, long imageId, int line) {}

package org.sr4g.evaluation;

import java.util.List;

/** The per-image outcomes read from one detection file, with the format it was in and the warnings counted. */
public record Detections(String format, List<ImageOutcome> outcomes, EvalWarnings warnings) {}

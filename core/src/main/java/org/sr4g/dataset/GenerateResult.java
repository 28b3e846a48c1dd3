package org.sr4g.dataset;

import java.nio.file.Path;
import java.util.List;

/**
 * What a run produced, for the CLI's summary table.
 *
 * @param out the output directory
 * @param kernel relation kernel used, e.g. vector-256, or "scalar (auto: N box pairs, a small run)"
 * @param trainImages images in the train inputs
 * @param trainBoxes boxes kept after reading
 * @param eligiblePairs ordered pairs considered
 * @param rows rows in train.jsonl
 * @param trainUnseenRows rows in train_unseen.jsonl (both categories seen)
 * @param rowsByFamily rows per report family (projective, topological, scale)
 * @param prompts prompts in prompts_val.jsonl, prompts_test.jsonl and prompts_test_unseen.jsonl
 * @param unseenCategories names of the held-out categories
 * @param inputBytes bytes of all inputs
 * @param parseNanos time spent reading inputs
 * @param relateNanos time spent relating pairs and writing train rows
 * @param totalNanos wall time of the whole run
 */
public record GenerateResult(
    Path out,
    String kernel,
    long trainImages,
    long trainBoxes,
    long eligiblePairs,
    long rows,
    long trainUnseenRows,
    long[] rowsByFamily,
    PromptCounts prompts,
    List<String> unseenCategories,
    long inputBytes,
    long parseNanos,
    long relateNanos,
    long totalNanos) {}

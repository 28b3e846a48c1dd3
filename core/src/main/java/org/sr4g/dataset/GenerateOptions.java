package org.sr4g.dataset;

import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.relations.Relation;

/**
 * Every option that changes what {@code sr4g generate} writes. Recorded in manifest.json.
 *
 * @param emitAll {@code --emit all} (every applicable relation) instead of one chosen per pair
 * @param relationMask relations that may be emitted ({@code --relations})
 * @param sameCategory include pairs of two objects of the same category
 * @param minArea minimum box area as a fraction of the image (0 = no minimum)
 * @param maxObjects skip images with more eligible objects than this (0 = no limit)
 * @param seed seed of the emission choice and of the unseen partition
 * @param unseenFraction fraction of categories held out as unseen, when {@code unseenCategories} is null
 * @param unseenCategories explicit unseen category names, or null
 * @param threads worker threads (output does not depend on it)
 * @param lenient drop and count annotations with unknown image/category instead of failing
 */
public record GenerateOptions(
    boolean emitAll,
    int relationMask,
    boolean sameCategory,
    float minArea,
    int maxObjects,
    long seed,
    double unseenFraction,
    List<String> unseenCategories,
    int threads,
    boolean lenient) {

  public GenerateOptions {
    if ((relationMask & ~Relation.ALL) != 0 || relationMask == 0) throw new IllegalArgumentException("bad relation mask");
    if (!(minArea >= 0 && minArea < 1)) throw new IllegalArgumentException("--min-area must be in [0, 1): " + minArea);
    if (maxObjects < 0) throw new IllegalArgumentException("--max-objects must be >= 0: " + maxObjects);
    if (!(unseenFraction >= 0 && unseenFraction < 1)) {
      throw new IllegalArgumentException("--unseen-fraction must be in [0, 1): " + unseenFraction);
    }
    if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1: " + threads);
    unseenCategories = unseenCategories == null ? null : List.copyOf(unseenCategories);
  }

  /**
   * Options as the command lines give them ({@code --relations LIST}, see {@link GenerateArgs}); every mistake is a
   * {@link UserInputException} naming the option. Shared by {@code sr4g generate} and {@code sr4g spark-generate}.
   */
  public static GenerateOptions fromCli(
      boolean emitAll, String relations, boolean sameCategory, float minArea, int maxObjects, long seed,
      double unseenFraction, List<String> unseenCategories, int threads, boolean lenient) {
    int mask;
    try {
      mask = Relation.parseSelection(relations);
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--relations: " + e.getMessage());
    }
    try {
      return new GenerateOptions(emitAll, mask, sameCategory, minArea, maxObjects, seed, unseenFraction, unseenCategories, threads, lenient);
    } catch (IllegalArgumentException e) {
      throw new UserInputException(e.getMessage());
    }
  }

  public static GenerateOptions defaults() {
    return new GenerateOptions(false, Relation.ALL, false, 0f, 0, 0L, 0.2, null, defaultThreads(), false);
  }

  /**
   * Workers that relate and render: one core fewer than the machine has, because the coordinating thread needs a core
   * of its own to move the rendered bytes into the files (~5.7 GB for train2017). Measured on 2 cores: 1 worker 6.7 s,
   * 2 workers 8.5-13 s for the same run (docs/benchmarks.md).
   */
  public static int defaultThreads() {
    return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
  }

  public GenerateOptions withEmitAll(boolean v) {
    return new GenerateOptions(v, relationMask, sameCategory, minArea, maxObjects, seed, unseenFraction, unseenCategories, threads, lenient);
  }

  public GenerateOptions withRelationMask(int v) {
    return new GenerateOptions(emitAll, v, sameCategory, minArea, maxObjects, seed, unseenFraction, unseenCategories, threads, lenient);
  }

  public GenerateOptions withSameCategory(boolean v) {
    return new GenerateOptions(emitAll, relationMask, v, minArea, maxObjects, seed, unseenFraction, unseenCategories, threads, lenient);
  }

  public GenerateOptions withMinArea(float v) {
    return new GenerateOptions(emitAll, relationMask, sameCategory, v, maxObjects, seed, unseenFraction, unseenCategories, threads, lenient);
  }

  public GenerateOptions withMaxObjects(int v) {
    return new GenerateOptions(emitAll, relationMask, sameCategory, minArea, v, seed, unseenFraction, unseenCategories, threads, lenient);
  }

  public GenerateOptions withSeed(long v) {
    return new GenerateOptions(emitAll, relationMask, sameCategory, minArea, maxObjects, v, unseenFraction, unseenCategories, threads, lenient);
  }

  public GenerateOptions withUnseenFraction(double v) {
    return new GenerateOptions(emitAll, relationMask, sameCategory, minArea, maxObjects, seed, v, unseenCategories, threads, lenient);
  }

  public GenerateOptions withUnseenCategories(List<String> v) {
    return new GenerateOptions(emitAll, relationMask, sameCategory, minArea, maxObjects, seed, unseenFraction, v, threads, lenient);
  }

  public GenerateOptions withThreads(int v) {
    return new GenerateOptions(emitAll, relationMask, sameCategory, minArea, maxObjects, seed, unseenFraction, unseenCategories, v, lenient);
  }

  public GenerateOptions withLenient(boolean v) {
    return new GenerateOptions(emitAll, relationMask, sameCategory, minArea, maxObjects, seed, unseenFraction, unseenCategories, threads, v);
  }
}

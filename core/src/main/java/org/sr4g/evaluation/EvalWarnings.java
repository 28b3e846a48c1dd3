package org.sr4g.evaluation;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counted warnings: conditions that are legal but change what the numbers mean (images VISOR skips, prompts with
 * fewer images, detections below the threshold). Everything malformed is an error instead. The first few examples of
 * each kind are kept so a user can find them.
 */
public final class EvalWarnings {
  private static final int EXAMPLES = 3;
  private final Map<String, Long> counts = new LinkedHashMap<>();
  private final Map<String, List<String>> examples = new LinkedHashMap<>();

  public void add(String kind, String example) {
    counts.merge(kind, 1L, Long::sum);
    List<String> ex = examples.computeIfAbsent(kind, k -> new ArrayList<>());
    if (ex.size() < EXAMPLES && example != null) ex.add(example);
  }

  /** Adds another set of warnings (e.g. of a later chunk of the same file), keeping the first examples. */
  public void addAll(EvalWarnings other) {
    for (Map.Entry<String, Long> e : other.counts.entrySet()) {
      counts.merge(e.getKey(), e.getValue(), Long::sum);
      List<String> ex = examples.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
      for (String s : other.examples(e.getKey())) if (ex.size() < EXAMPLES) ex.add(s);
    }
  }

  public Map<String, Long> counts() {
    return Collections.unmodifiableMap(counts);
  }

  public List<String> examples(String kind) {
    return examples.getOrDefault(kind, List.of());
  }

  public long count(String kind) {
    return counts.getOrDefault(kind, 0L);
  }
}

package org.sr4g.evaluation;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Prompts in file order with a lookup by {@code unique_id}; the index in {@link #all()} is the prompt's slot. */
public final class PromptSet {
  private final List<EvalPrompt> prompts;
  private final Map<Integer, Integer> indexById;
  private final String source;

  PromptSet(List<EvalPrompt> prompts, String source) {
    this.prompts = Collections.unmodifiableList(prompts);
    this.source = source;
    this.indexById = new HashMap<>(prompts.size() * 2);
    for (int i = 0; i < prompts.size(); i++) indexById.put(prompts.get(i).uniqueId(), i);
  }

  public List<EvalPrompt> all() {
    return prompts;
  }

  public int size() {
    return prompts.size();
  }

  public EvalPrompt get(int index) {
    return prompts.get(index);
  }

  /** The slot of a prompt id, or -1. */
  public int indexOf(int uniqueId) {
    Integer i = indexById.get(uniqueId);
    return i == null ? -1 : i;
  }

  /** The file the prompts came from, for error messages. */
  public String source() {
    return source;
  }
}

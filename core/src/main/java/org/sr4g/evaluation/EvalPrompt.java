package org.sr4g.evaluation;

import org.sr4g.relations.Relation;

/**
 * One prompt as the evaluation sees it. {@code relation} is null for prompts VISOR skips ({@code rel_type == "and"}
 * or {@code num_objects != 2}); {@code unseen} is true when either object is in the dataset's unseen category list.
 */
public record EvalPrompt(
    int uniqueId, int numObjects, String objectA, String objectB, String relType, String text, Relation relation,
    boolean unseen) {

  /** True when VISOR's {@code visor.py} scores this prompt's images. */
  public boolean scored() {
    return relation != null;
  }
}

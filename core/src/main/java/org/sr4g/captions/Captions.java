package org.sr4g.captions;

import org.sr4g.relations.Relation;

/** Captions of the form {@code <article> <subject> <phrase> <article> <object>}, e.g. "a cat to the left of a dog". */
public final class Captions {
  private Captions() {}

  public static String caption(String subject, Relation relation, String object) {
    return Articles.withArticle(subject) + " " + relation.phrase() + " " + Articles.withArticle(object);
  }
}

package org.sr4g.captions;

import java.util.Locale;
import java.util.Set;

/**
 * Indefinite articles as VISOR's prompts write them: {@code an} before a vowel letter, {@code a} otherwise, with the
 * English exceptions where spelling and sound disagree ("an hour", "a university", "a one-way sign").
 */
public final class Articles {
  /** Words starting with a silent h: they take "an". */
  private static final Set<String> AN_EXCEPTIONS = Set.of("hour", "hours", "honest", "honor", "honour", "heir", "herb");
  /** Words starting with a vowel letter pronounced as a consonant ("you", "wun"): they take "a". */
  private static final Set<String> A_PREFIXES =
      Set.of("uni", "use", "usu", "uten", "eu", "one", "once", "ewe", "ukulele", "urinal", "uranium");

  private Articles() {}

  /** {@code "a"} or {@code "an"} for a noun phrase. */
  public static String of(String nounPhrase) {
    String w = nounPhrase.trim().toLowerCase(Locale.ROOT);
    if (w.isEmpty()) throw new IllegalArgumentException("empty noun phrase");
    String first = w.split("[ -]", 2)[0];
    if (AN_EXCEPTIONS.contains(first)) return "an";
    for (String p : A_PREFIXES) {
      if (first.startsWith(p)) return "a";
    }
    return "aeiou".indexOf(w.charAt(0)) >= 0 ? "an" : "a";
  }

  /** The phrase with its article, e.g. {@code "an airplane"}, {@code "a hair drier"}. */
  public static String withArticle(String nounPhrase) {
    return of(nounPhrase) + " " + nounPhrase;
  }
}

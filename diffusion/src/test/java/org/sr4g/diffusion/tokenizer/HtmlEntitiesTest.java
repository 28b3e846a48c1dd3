package org.sr4g.diffusion.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The rules of Python's {@code html.unescape} that CLIP's clean-up relies on. */
class HtmlEntitiesTest {
  @Test
  void namedReferencesUseTheFullHtml5Table() {
    assertEquals("♥ ≂̸ Æ", HtmlEntities.unescape("&hearts; &NotEqualTilde; &AElig;"));
    assertEquals("&bogus;", HtmlEntities.unescape("&bogus;"));
  }

  @Test
  void legacyNamesWorkWithoutSemicolonByLongestPrefix() {
    assertEquals("&", HtmlEntities.unescape("&amp"));
    assertEquals("&x", HtmlEntities.unescape("&ampx"));
    assertEquals("<3", HtmlEntities.unescape("&lt3"));
    assertEquals("©2024", HtmlEntities.unescape("&copy2024"));
    assertEquals("¬it;", HtmlEntities.unescape("&notit;"), "the classic HTML5 example: &not is legacy, &notit is not");
  }

  @Test
  void numericReferencesFollowPythonsReplacementRules() {
    assertEquals("A A", HtmlEntities.unescape("&#65; &#x41"));
    assertEquals("€", HtmlEntities.unescape("&#128;"), "C1 range read as windows-1252");
    assertEquals("\u0081", HtmlEntities.unescape("&#x81;"), "undefined in windows-1252: kept");
    assertEquals("\ufffd", HtmlEntities.unescape("&#0;"));
    assertEquals("", HtmlEntities.unescape("&#1;"), "invalid code point dropped");
    assertEquals("\ufffd", HtmlEntities.unescape("&#99999999999999999999;"), "beyond Unicode");
    assertEquals("\ufffd", HtmlEntities.unescape("&#xD800;"), "surrogate");
    assertEquals("😀", HtmlEntities.unescape("&#x1F600;"));
  }

  @Test
  void ftfyUnescapesOnlyCompleteReferencesAndUpperCasedNames() {
    assertEquals("Ñ é", HtmlEntities.ftfyUnescape("&NTILDE; &eacute;"), "upper-cased name of a lower-case entity");
    assertEquals("&amp &lt3", HtmlEntities.ftfyUnescape("&amp &lt3"), "no semicolon: left alone");
    assertEquals("A", HtmlEntities.ftfyUnescape("&#x41;"));
    assertEquals("&#59;", HtmlEntities.ftfyUnescape("&#59;"), "a reference that decodes to ';' is kept");
    assertEquals("&amp;", HtmlEntities.ftfyUnescape("&amp;amp;"), "one pass; the fix_text loop repeats it");
  }
}

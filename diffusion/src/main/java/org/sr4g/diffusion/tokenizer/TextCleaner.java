package org.sr4g.diffusion.tokenizer;

import java.text.Normalizer;

/**
 * CLIP's caption clean-up ({@code basic_clean} then {@code whitespace_clean}, then lower-case), in the subset of
 * {@code ftfy.fix_text} that is deterministic without ftfy's mojibake heuristics: control characters and byte-order
 * marks removed, Latin ligatures and full-width/half-width forms expanded, curly quotes straightened, NFC; then HTML
 * unescaped twice (exactly as Python's {@code html.unescape}, see {@link HtmlEntities}), whitespace runs collapsed to
 * one space, stripped, lower-cased as Python's {@code str.lower} does.
 *
 * <p>Not done: ftfy's mojibake repair ({@code fix_encoding}: guessing that text was decoded with the wrong codec) and
 * its other heuristics; captions with mojibake tokenize as they are.
 */
final class TextCleaner {
  private TextCleaner() {}

  static String clean(String text) {
    String s = fixText(text);
    s = HtmlEntities.unescape(HtmlEntities.unescape(s));
    return lowerCase(collapseWhitespace(s));
  }

  /** The ftfy steps listed in the class comment, in ftfy's order (NFC last). */
  static String fixText(String text) {
    StringBuilder out = new StringBuilder(text.length());
    text.codePoints().forEach(cp -> {
      if (isRemovedControl(cp)) return;
      String mapped = ligature(cp);
      if (mapped == null) mapped = width(cp);
      if (mapped == null) mapped = quote(cp);
      if (mapped != null) out.append(mapped);
      else out.appendCodePoint(cp);
    });
    return Normalizer.normalize(out, Normalizer.Form.NFC);
  }

  /** ftfy {@code remove_control_chars} (plus the BOM, which ftfy's {@code remove_bom} drops). */
  private static boolean isRemovedControl(int cp) {
    return (cp >= 0x00 && cp <= 0x08) || cp == 0x0B || (cp >= 0x0E && cp <= 0x1F) || cp == 0x7F
        || (cp >= 0x206A && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFC)
        || (cp >= 0x1D173 && cp <= 0x1D17A) || (cp >= 0xE0000 && cp <= 0xE007F);
  }

  /** ftfy {@code fix_latin_ligatures}: the NFKC expansion of these ligatures only (fi, fl, ĳ, ǆ ...). */
  private static String ligature(int cp) {
    return switch (cp) {
      case 0x0132, 0x0133, 0x013F, 0x0140, 0x01C4, 0x01C5, 0x01C6, 0x01C7, 0x01C8, 0x01C9, 0x01CA, 0x01CB, 0x01CC,
          0x01F1, 0x01F2, 0x01F3, 0xFB00, 0xFB01, 0xFB02, 0xFB03, 0xFB04, 0xFB05, 0xFB06 ->
          Normalizer.normalize(Character.toString(cp), Normalizer.Form.NFKC);
      default -> null;
    };
  }

  /** ftfy {@code fix_character_width}: full-width and half-width forms to their NFKC form; ideographic space. */
  private static String width(int cp) {
    if (cp == 0x3000) return " ";
    if (cp < 0xFF01 || cp >= 0xFFF0) return null;
    String c = Character.toString(cp);
    String n = Normalizer.normalize(c, Normalizer.Form.NFKC);
    return n.equals(c) ? null : n;
  }

  /** ftfy {@code uncurl_quotes}. */
  private static String quote(int cp) {
    if (cp == 0x02BC || (cp >= 0x2018 && cp <= 0x201B)) return "'";
    if (cp >= 0x201C && cp <= 0x201F) return "\"";
    return null;
  }

  /** {@code re.sub(r'\s+', ' ', s).strip()} with Python's notion of whitespace. */
  static String collapseWhitespace(String s) {
    StringBuilder out = new StringBuilder(s.length());
    boolean pendingSpace = false;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (isPythonSpace(cp)) {
        pendingSpace = out.length() > 0;
      } else {
        if (pendingSpace) out.append(' ');
        pendingSpace = false;
        out.appendCodePoint(cp);
      }
    }
    return out.toString();
  }

  /** Python's {@code str.isspace}: bidi class WS/B/S or category Zs (Java's isWhitespace omits no-break spaces). */
  static boolean isPythonSpace(int cp) {
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
        || cp == 0x3000;
  }

  /**
   * Python's {@code str.lower}: per code point, without Java's locale and context rules (Java lower-cases a final
   * capital sigma to ς, Python to σ); the one multi-character mapping, İ, becomes i + combining dot as in Python.
   */
  static String lowerCase(String s) {
    StringBuilder out = new StringBuilder(s.length());
    s.codePoints().forEach(cp -> {
      if (cp == 0x0130) out.append("i\u0307");
      else out.appendCodePoint(Character.toLowerCase(cp));
    });
    return out.toString();
  }
}

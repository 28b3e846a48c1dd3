package org.sr4g.diffusion.tokenizer;

import java.text.Normalizer;

/**
 * CLIP's caption clean-up: {@code basic_clean} ({@code ftfy.fix_text}, {@code html.unescape} twice, strip), then
 * {@code whitespace_clean} (every whitespace run to one space, strip), then lower-case.
 *
 * <p>{@link #fixText} follows ftfy 6's {@code fix_text} with its default configuration, step for step and repeated
 * until nothing changes, per line, except {@code fix_encoding}: ftfy's mojibake repair (guessing, from a badness
 * heuristic, that UTF-8 was decoded with a single-byte codec) is not implemented, so captions with mojibake tokenize as
 * they are, and lone C1 control characters are always read as windows-1252 (ftfy would first try re-decoding).
 */
final class TextCleaner {
  private TextCleaner() {}

  private static final java.nio.charset.Charset CP1252 = java.nio.charset.Charset.forName("windows-1252");

  static String clean(String text) {
    String s = fixText(text);
    s = HtmlEntities.unescape(HtmlEntities.unescape(s));
    return lowerCase(collapseWhitespace(s));
  }

  /**
   * ftfy's {@code fix_text}: the text is fixed line by line (each segment ends after a newline); HTML entities are
   * unescaped only until a line containing {@code <} is seen (it suggests real HTML).
   */
  static String fixText(String text) {
    StringBuilder out = new StringBuilder(text.length());
    boolean unescapeHtml = true;
    int pos = 0;
    while (pos < text.length()) {
      int nl = text.indexOf('\n', pos);
      int end = nl < 0 ? text.length() : nl + 1;
      String segment = text.substring(pos, end);
      if (segment.indexOf('<') >= 0) unescapeHtml = false;
      out.append(fixSegment(segment, unescapeHtml));
      pos = end;
    }
    return out.toString();
  }

  /** ftfy's {@code fix_and_explain} loop: apply every fixer in order until the text stops changing. */
  private static String fixSegment(String text, boolean unescapeHtml) {
    while (true) {
      String before = text;
      if (unescapeHtml) text = HtmlEntities.ftfyUnescape(text);
      // fix_encoding: not implemented (see the class comment)
      text = mapCodePoints(text, TextCleaner::c1Control);
      text = mapCodePoints(text, TextCleaner::ligature);
      text = mapCodePoints(text, TextCleaner::width);
      text = mapCodePoints(text, TextCleaner::quote);
      text = fixLineBreaks(text);
      text = mapCodePoints(text, cp -> cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE ? "\ufffd" : null);
      text = removeTerminalEscapes(text);
      text = mapCodePoints(text, cp -> isRemovedControl(cp) ? "" : null);
      text = Normalizer.normalize(text, Normalizer.Form.NFC);
      if (text.equals(before)) return text;
    }
  }

  private interface CodePointMap {
    /** The replacement, or {@code null} to keep the code point. */
    String map(int cp);
  }

  private static String mapCodePoints(String s, CodePointMap f) {
    StringBuilder out = null;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      int next = i + Character.charCount(cp);
      String r = f.map(cp);
      if (r != null && out == null) out = new StringBuilder(s.length()).append(s, 0, i);
      if (out != null) {
        if (r != null) out.append(r);
        else out.appendCodePoint(cp);
      }
      i = next;
    }
    return out == null ? s : out.toString();
  }

  /** ftfy {@code fix_c1_controls}: C1 controls read as "sloppy" windows-1252 (undefined bytes stay themselves). */
  private static String c1Control(int cp) {
    if (cp < 0x80 || cp > 0x9f) return null;
    String c = new String(new byte[] {(byte) cp}, CP1252);
    return c.equals("\ufffd") ? null : c;
  }

  /** ftfy {@code fix_latin_ligatures}: its table (Latin typographic ligatures and legacy digraphs only). */
  private static String ligature(int cp) {
    return switch (cp) {
      case 0x0132 -> "IJ";
      case 0x0133 -> "ij";
      case 0x0149 -> "\u02bcn";
      case 0x01F1 -> "DZ";
      case 0x01F2 -> "Dz";
      case 0x01F3 -> "dz";
      case 0x01C4 -> "D\u017d";
      case 0x01C5 -> "D\u017e";
      case 0x01C6 -> "d\u017e";
      case 0x01C7 -> "LJ";
      case 0x01C8 -> "Lj";
      case 0x01C9 -> "lj";
      case 0x01CA -> "NJ";
      case 0x01CB -> "Nj";
      case 0x01CC -> "nj";
      case 0xFB00 -> "ff";
      case 0xFB01 -> "fi";
      case 0xFB02 -> "fl";
      case 0xFB03 -> "ffi";
      case 0xFB04 -> "ffl";
      case 0xFB05 -> "\u017ft";
      case 0xFB06 -> "st";
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

  /** ftfy {@code fix_line_breaks}: CRLF, CR, LS, PS and NEL to LF. */
  private static String fixLineBreaks(String s) {
    return s.replace("\r\n", "\n").replace('\r', '\n').replace('\u2028', '\n').replace('\u2029', '\n')
        .replace('\u0085', '\n');
  }

  /** ftfy {@code remove_terminal_escapes}: ANSI sequences {@code ESC [ digits-and-semicolons letter}. */
  private static String removeTerminalEscapes(String s) {
    return s.indexOf('\u001b') < 0 ? s : s.replaceAll("\u001b\\[[0-9;]*[a-zA-Z]", "");
  }

  /** ftfy {@code remove_control_chars} (C0 controls except whitespace, DEL, bidi overrides, BOM, interlinear marks). */
  private static boolean isRemovedControl(int cp) {
    return (cp >= 0x00 && cp <= 0x08) || cp == 0x0B || (cp >= 0x0E && cp <= 0x1F) || cp == 0x7F
        || (cp >= 0x206A && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFC);
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

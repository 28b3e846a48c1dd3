package org.sr4g.diffusion.tokenizer;

import java.nio.charset.Charset;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Python's {@code html.unescape} for numeric character references (with its replacement rules for invalid ones) and
 * for the named entities captions actually contain. Python knows all 2231 HTML5 names; a name not in {@link #NAMED} is
 * left as it is (documented limitation).
 */
final class HtmlEntities {
  private HtmlEntities() {}

  private static final Pattern CHARREF = Pattern.compile("&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");

  /** Named entities with their expansion; the first group may also appear without the semicolon (HTML legacy). */
  private static final Map<String, String> NAMED = Map.ofEntries(
      Map.entry("amp", "&"), Map.entry("lt", "<"), Map.entry("gt", ">"), Map.entry("quot", "\""),
      Map.entry("nbsp", "\u00a0"), Map.entry("copy", "\u00a9"), Map.entry("reg", "\u00ae"), Map.entry("deg", "\u00b0"),
      Map.entry("eacute", "\u00e9"), Map.entry("egrave", "\u00e8"), Map.entry("agrave", "\u00e0"),
      Map.entry("aacute", "\u00e1"), Map.entry("uuml", "\u00fc"), Map.entry("ouml", "\u00f6"),
      Map.entry("auml", "\u00e4"), Map.entry("szlig", "\u00df"), Map.entry("ccedil", "\u00e7"),
      Map.entry("ntilde", "\u00f1"), Map.entry("times", "\u00d7"), Map.entry("middot", "\u00b7"));
  /** Names that need the semicolon. */
  private static final Map<String, String> NAMED_SEMICOLON_ONLY = Map.ofEntries(
      Map.entry("apos", "'"), Map.entry("hellip", "\u2026"), Map.entry("mdash", "\u2014"),
      Map.entry("ndash", "\u2013"), Map.entry("lsquo", "\u2018"), Map.entry("rsquo", "\u2019"),
      Map.entry("ldquo", "\u201c"), Map.entry("rdquo", "\u201d"), Map.entry("trade", "\u2122"),
      Map.entry("euro", "\u20ac"), Map.entry("bull", "\u2022"));

  private static final Charset CP1252 = Charset.forName("windows-1252");

  static String unescape(String s) {
    if (s.indexOf('&') < 0) return s;
    Matcher m = CHARREF.matcher(s);
    StringBuilder out = new StringBuilder(s.length());
    while (m.find()) m.appendReplacement(out, Matcher.quoteReplacement(replace(m.group(1))));
    m.appendTail(out);
    return out.toString();
  }

  private static String replace(String ref) {
    if (ref.charAt(0) == '#') {
      String digits = ref.endsWith(";") ? ref.substring(1, ref.length() - 1) : ref.substring(1);
      long num;
      try {
        num = digits.charAt(0) == 'x' || digits.charAt(0) == 'X'
            ? Long.parseLong(digits.substring(1), 16) : Long.parseLong(digits);
      } catch (NumberFormatException tooLong) {
        num = Long.MAX_VALUE;
      }
      return numeric(num);
    }
    if (ref.endsWith(";")) {
      String name = ref.substring(0, ref.length() - 1);
      String v = NAMED.containsKey(name) ? NAMED.get(name) : NAMED_SEMICOLON_ONLY.get(name);
      if (v != null) return v;
    }
    // As Python: the longest prefix that is a legacy (semicolon-free) entity, the rest kept.
    for (int len = Math.min(ref.length(), 32); len > 1; len--) {
      String v = NAMED.get(ref.substring(0, len));
      if (v != null) return v + ref.substring(len);
    }
    return "&" + ref;
  }

  /** Python's rules for numeric references: C1 codes read as windows-1252, invalid code points dropped or U+FFFD. */
  private static String numeric(long num) {
    if (num == 0) return "\ufffd";
    if (num == 0x0d) return "\r";
    if (num >= 0x80 && num <= 0x9f) {
      String c = new String(new byte[] {(byte) num}, CP1252);
      // windows-1252 leaves 0x81, 0x8d, 0x8f, 0x90, 0x9d undefined; Python returns those C1 controls as they are.
      return c.equals("\ufffd") ? Character.toString((int) num) : c;
    }
    if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) return "\ufffd";
    int cp = (int) num;
    if ((cp >= 0x1 && cp <= 0x8) || (cp >= 0xe && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f)
        || (cp >= 0xfdd0 && cp <= 0xfdef) || cp == 0xb || (cp & 0xfffe) == 0xfffe) return "";
    return Character.toString(cp);
  }
}

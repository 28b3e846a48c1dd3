package org.sr4g.diffusion.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Python's {@code html.unescape}, rule for rule: numeric references with its replacements for invalid ones, and the
 * 2231 HTML5 named references ({@code html5-entities.txt}, generated from Python's {@code html.entities.html5}),
 * including the legacy names that may omit the semicolon and Python's longest-prefix fallback; and ftfy's stricter
 * variant ({@link #ftfyUnescape}).
 */
final class HtmlEntities {
  private HtmlEntities() {}

  private static final Pattern CHARREF = Pattern.compile("&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");
  private static final Charset CP1252 = Charset.forName("windows-1252");

  private static final Pattern FTFY_ENTITY = Pattern.compile("&#?[0-9A-Za-z]{1,24};");

  /** Name (with its semicolon, or without for legacy names) → replacement. Loaded on first use. */
  private static final class Table {
    static final Map<String, String> NAMED = load("html5-entities.txt");
    /** ftfy's entity map: {@code &name;} for every HTML5 name with a semicolon, plus its upper-cased additions. */
    static final Map<String, String> FTFY = ftfy();

    private static Map<String, String> ftfy() {
      Map<String, String> m = new HashMap<>(4096);
      NAMED.forEach((name, v) -> {
        if (name.endsWith(";")) m.put("&" + name, v);
      });
      m.putAll(load("ftfy-uppercase-entities.txt"));
      return m;
    }

    private static Map<String, String> load(String resource) {
      Map<String, String> m = new HashMap<>(4096);
      try (InputStream in = HtmlEntities.class.getResourceAsStream(resource)) {
        if (in == null) throw new IllegalStateException("resource " + resource + " missing from the jar");
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line; (line = r.readLine()) != null; ) {
          if (line.isEmpty() || line.startsWith("#")) continue;
          int tab = line.indexOf('\t');
          StringBuilder v = new StringBuilder(2);
          for (String hex : line.substring(tab + 1).split(" ")) v.appendCodePoint(Integer.parseInt(hex, 16));
          m.put(line.substring(0, tab), v.toString());
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return m;
    }
  }

  /**
   * ftfy's {@code unescape_html}: only complete {@code &...;} references of at most 24 characters; names from the HTML5
   * table (with semicolon) or ftfy's upper-cased additions ({@code &NTILDE;} → Ñ); numeric ones as Python decodes them,
   * unless that leaves a semicolon.
   */
  static String ftfyUnescape(String s) {
    if (s.indexOf('&') < 0) return s;
    Matcher m = FTFY_ENTITY.matcher(s);
    StringBuilder out = new StringBuilder(s.length());
    while (m.find()) {
      String entity = m.group();
      String v = Table.FTFY.get(entity);
      if (v == null && entity.startsWith("&#")) {
        String decoded = unescape(entity);
        v = decoded.contains(";") ? entity : decoded;
      }
      m.appendReplacement(out, Matcher.quoteReplacement(v == null ? entity : v));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** Python's {@code html.unescape}. */
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
      boolean hex = ref.charAt(1) == 'x' || ref.charAt(1) == 'X';
      String digits = ref.substring(hex ? 2 : 1);
      if (digits.endsWith(";")) digits = digits.substring(0, digits.length() - 1);
      long num;
      try {
        num = Long.parseLong(digits, hex ? 16 : 10);
      } catch (NumberFormatException tooLong) {
        num = Long.MAX_VALUE; // Python's int is unbounded; anything this large is > 0x10FFFF
      }
      return numeric(num);
    }
    Map<String, String> named = Table.NAMED;
    String whole = named.get(ref);
    if (whole != null) return whole;
    // As Python: the longest prefix that is a (legacy, semicolon-free) name; the rest is kept.
    for (int len = ref.length() - 1; len > 1; len--) {
      String v = named.get(ref.substring(0, len));
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

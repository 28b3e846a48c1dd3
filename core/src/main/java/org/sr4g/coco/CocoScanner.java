package org.sr4g.coco;

import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import org.sr4g.io.Escape;

/**
 * The fast reader of a COCO instances file, or of one part of it: a byte-level scanner that validates the JSON it
 * walks over and keeps only what sr4g needs, with no token objects, no per-token {@code String} (only file names,
 * category names and image sizes become strings) and the {@code segmentation} arrays skipped by a raw scan that still
 * checks every number and bracket.
 *
 * <p>It is an optimistic fast path in front of {@link CocoJsonParser}, which stays the definition of the format and of
 * every error message. The scanner accepts a strict subset of what the parser accepts and returns exactly the records
 * the parser would; on anything else — a syntax error, a missing field, a duplicate key, an escape in a key, a
 * {@code NaN}, a number longer than {@value #MAX_NUMBER} characters, nesting deeper than {@value #MAX_DEPTH}, a byte
 * sequence that is not strict UTF-8 — it throws {@link Defer} and the caller reads the file with the parser, so a
 * user never sees an error the scanner made up. The fuzz target {@code CocoScanFuzzTest} checks that both agree.
 *
 * <p>A part of a file (see {@link ScanPlan}) starts either at the file's beginning or at an element of one of the three
 * sections, after a comma, as its planner guessed; it ends where the next part starts. The scan of part k must reach
 * exactly the next part's start, as an element of the section that part assumed, or it throws {@link Resync}: that
 * check, chained from part 0 (which starts where a serial read starts), proves every part started where a serial read
 * would have been, so the parts' records concatenated are the serial read's.
 *
 * <p>The input array holds the part and one more byte, 0, after it: no JSON token contains a NUL byte, so the sentinel
 * ends every loop and reads as an error wherever the scan runs into it.
 */
final class CocoScanner {
  /** The three top-level arrays sr4g reads. */
  enum Section {
    IMAGES, ANNOTATIONS, CATEGORIES
  }

  /** The scanner will not vouch for this input: read it with {@link CocoJsonParser}, which says what is wrong. */
  static final class Defer extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Defer(String why, int at) {
      super(why + " at part byte " + at, null, false, false);
    }
  }

  /** A part did not end where the next part assumed it starts: the split was wrong, not (necessarily) the file. */
  static final class Resync extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Resync(String why) {
      super(why, null, false, false);
    }
  }

  /** What one part holds: its records and the sections whose arrays it opened (each may be opened once per file). */
  record Part(CocoColumns columns, EnumSet<Section> opened) {}

  static final int MAX_DEPTH = 64;
  static final int MAX_NUMBER = 256;
  static final int MAX_STRING = 1 << 20;
  /** Jackson refuses names past 50,000 characters; the scanner defers far below that. */
  static final int MAX_KEY = 4096;

  private static final byte[] IMAGES = ascii("images"), ANNOTATIONS = ascii("annotations"), CATEGORIES = ascii("categories");
  private static final byte[] ID = ascii("id"), FILE_NAME = ascii("file_name"), WIDTH = ascii("width"), HEIGHT = ascii("height");
  private static final byte[] IMAGE_ID = ascii("image_id"), CATEGORY_ID = ascii("category_id"), ISCROWD = ascii("iscrowd");
  private static final byte[] BBOX = ascii("bbox"), NAME = ascii("name"), SUPERCATEGORY = ascii("supercategory");
  private static final byte[] TRUE = ascii("true"), FALSE = ascii("false"), NULL = ascii("null");

  private final byte[] b;
  private final int len;
  private final boolean last;
  private final Section stopAt;
  private final int fileIndex;
  private final CocoColumns out;
  private final EnumSet<Section> opened = EnumSet.noneOf(Section.class);
  private final byte[] bboxText = new byte[CocoJsonParser.MAX_BBOX_TEXT];
  private final float[] bboxValues = new float[4];
  private int pos;
  /** The last key read: {@code b[keyStart, keyStart + keyLen)}. */
  private int keyStart, keyLen;

  private CocoScanner(byte[] b, int len, Section stopAt, int fileIndex, CocoColumns out) {
    if (b.length <= len || b[len] != 0) throw new IllegalArgumentException("the part needs a 0 byte after it");
    this.b = b;
    this.len = len;
    this.last = stopAt == null;
    this.stopAt = stopAt;
    this.fileIndex = fileIndex;
    this.out = out;
  }

  /**
   * Scans {@code b[0, len)} ({@code b[len] == 0}).
   *
   * @param start null when the part begins the file, else the section whose element starts at byte 0
   * @param stopAt null when the part ends the file, else the section of the element that starts at {@code len}
   */
  static Part scan(byte[] b, int len, Section start, Section stopAt, int fileIndex) {
    CocoScanner s = new CocoScanner(b, len, stopAt, fileIndex, new CocoColumns(len / 3000, len / 600));
    try {
      s.document(start);
    } catch (Stop stop) {
      // reached the next part's start
    }
    return new Part(s.out, s.opened);
  }

  /** Thrown (once, by a part that is not the last) on reaching the next part's start as that part assumed. */
  private static final class Stop extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Stop() {
      super(null, null, false, false);
    }
  }

  // ---- document structure ----

  private void document(Section start) {
    if (start == null) {
      ws();
      expect('{', "top level must be an object");
      ws();
      if (b[pos] == '}') {
        pos++;
        end();
        return;
      }
    } else {
      elements(start);
      if (!nextMember()) return;
    }
    while (true) {
      readKey();
      expectColon();
      Section s = section();
      if (s != null) sectionArray(s);
      else skipValue(2);
      if (!nextMember()) return;
    }
  }

  /** After a top-level member: true at the next key, false when the document ended. */
  private boolean nextMember() {
    ws();
    byte c = b[pos];
    if (c == ',') {
      pos++;
      ws();
      return true;
    }
    if (c == '}') {
      pos++;
      end();
      return false;
    }
    throw fail("expected , or } at top level");
  }

  private void end() {
    if (!last) throw new Resync("the document ended before the next part's start");
    ws();
    if (pos != len) throw fail("content after the top-level object");
  }

  private Section section() {
    if (isKey(IMAGES)) return Section.IMAGES;
    if (isKey(ANNOTATIONS)) return Section.ANNOTATIONS;
    if (isKey(CATEGORIES)) return Section.CATEGORIES;
    return null;
  }

  private void sectionArray(Section s) {
    if (!opened.add(s)) throw defer("a second \"" + s.name().toLowerCase(java.util.Locale.ROOT) + "\" section");
    out.sawImages |= s == Section.IMAGES;
    out.sawAnnotations |= s == Section.ANNOTATIONS;
    out.sawCategories |= s == Section.CATEGORIES;
    expect('[', "a section must be an array");
    ws();
    if (b[pos] == ']') {
      pos++;
      return;
    }
    elements(s);
  }

  /** The elements of a section, from the one at {@code pos} to the closing bracket (or the next part's start). */
  private void elements(Section s) {
    while (true) {
      if (b[pos] != '{') throw fail("a section element must be an object");
      switch (s) {
        case IMAGES:
          image();
          break;
        case ANNOTATIONS:
          annotation();
          break;
        default:
          category();
      }
      ws();
      byte c = b[pos];
      if (c == ']') {
        pos++;
        return;
      }
      if (c != ',') throw fail("expected , or ] after a section element");
      pos++;
      ws();
      if (pos == len && !last) {
        if (s == stopAt) throw new Stop();
        throw new Resync("the next part starts in another section");
      }
    }
  }

  // ---- records ----

  private static final int F_ID = 1, F_FILE = 2, F_W = 4, F_H = 8, F_IMAGE = 16, F_CAT = 32, F_CROWD = 64, F_BBOX = 128,
      F_NAME = 256;
  /** The keys of the record fields: {@code FIELD_KEYS[i]} has the flag {@code 1 << i} above. */
  private static final byte[][] FIELD_KEYS = {ID, FILE_NAME, WIDTH, HEIGHT, IMAGE_ID, CATEGORY_ID, ISCROWD, BBOX, NAME};

  /** The flags of the fields read so far in the current image, category or annotation ({@link #field}). */
  private int seen;

  /** Starts an element object; returns false when it is empty. */
  private boolean openElement() {
    pos++;
    ws();
    if (b[pos] == '}') {
      pos++;
      return false;
    }
    return true;
  }

  /** After a field's value: true at the next key, false past the closing brace. */
  private boolean nextField() {
    ws();
    byte c = b[pos];
    if (c == ',') {
      pos++;
      ws();
      return true;
    }
    if (c == '}') {
      pos++;
      return false;
    }
    throw fail("expected , or } in an object");
  }

  /**
   * Reads the next key and its colon. A key among the {@code wanted} fields is recorded in {@link #seen} (given twice:
   * deferred) and its flag returned; any other key returns 0, and the caller skips its value.
   */
  private int field(int wanted) {
    readKey();
    expectColon();
    for (int i = 0; i < FIELD_KEYS.length; i++) {
      int flag = 1 << i;
      if ((wanted & flag) != 0 && isKey(FIELD_KEYS[i])) {
        if ((seen & flag) != 0) throw defer("a key given twice");
        seen |= flag;
        return flag;
      }
    }
    return 0;
  }

  private void image() {
    long id = 0;
    String file = null, wText = null, hText = null;
    double w = Double.NaN, h = Double.NaN;
    seen = 0;
    for (boolean more = openElement(); more; more = nextField()) {
      switch (field(F_ID | F_FILE | F_W | F_H)) {
        case F_ID -> id = integer();
        case F_FILE -> file = string();
        case F_W -> {
          int from = pos, to = numberEnd(pos);
          w = JsonNumbers.parse(b, from, to);
          wText = new String(b, from, to - from, StandardCharsets.ISO_8859_1);
        }
        case F_H -> {
          int from = pos, to = numberEnd(pos);
          h = JsonNumbers.parse(b, from, to);
          hText = new String(b, from, to - from, StandardCharsets.ISO_8859_1);
        }
        default -> skipValue(4);
      }
    }
    if (seen != (F_ID | F_FILE | F_W | F_H) || !CocoJsonParser.validSize(w, h)) throw defer("an image the parser rejects");
    out.addImage(id, file, wText, hText, (float) w, (float) h, fileIndex);
  }

  private void category() {
    long id = 0;
    String name = null;
    seen = 0;
    for (boolean more = openElement(); more; more = nextField()) {
      switch (field(F_ID | F_NAME)) {
        case F_ID -> id = integer();
        case F_NAME -> name = string();
        default -> skipValue(4);
      }
    }
    if (seen != (F_ID | F_NAME) || id != (int) id || name.isBlank()) throw defer("a category the parser rejects");
    String prev = out.categories.putIfAbsent((int) id, name);
    if (prev != null && !prev.equals(name)) throw defer("a category id with two names");
  }

  private void annotation() {
    long id = 0, imageId = 0, categoryId = 0;
    boolean crowd = false;
    int textLen = 0;
    seen = 0;
    for (boolean more = openElement(); more; more = nextField()) {
      switch (field(F_ID | F_IMAGE | F_CAT | F_BBOX | F_CROWD)) {
        case F_ID -> id = integer();
        case F_IMAGE -> imageId = integer();
        case F_CAT -> categoryId = integer();
        case F_BBOX -> textLen = bbox();
        case F_CROWD -> crowd = crowd();
        default -> skipValue(4);
      }
    }
    if ((seen | F_CROWD) != (F_ID | F_IMAGE | F_CAT | F_BBOX | F_CROWD)) throw defer("an annotation without a required field");
    float[] v = bboxValues;
    DropReason drop = CocoJsonParser.dropReason(v[0], v[1], v[2], v[3]);
    if (drop != null) {
      out.drop(drop);
      return;
    }
    if (categoryId != (int) categoryId) throw defer("a category_id out of range");
    out.addAnnotation(id, imageId, (int) categoryId, v[0], v[1], v[2], v[3], crowd, bboxText, 0, textLen, fileIndex);
  }

  /** {@code [x, y, w, h]}: the values into {@link #bboxValues}, the compact text into {@link #bboxText}; its length. */
  private int bbox() {
    expect('[', "bbox must be an array");
    byte[] t = bboxText;
    t[0] = '[';
    int n = 1;
    for (int k = 0; k < 4; k++) {
      ws();
      if (k > 0) {
        expect(',', "bbox must hold 4 numbers");
        ws();
      }
      int from = pos, to = numberEnd(pos), l = to - from;
      if (n + l + 2 > t.length) throw defer("a bbox number too long");
      if (k > 0) t[n++] = ',';
      System.arraycopy(b, from, t, n, l);
      n += l;
      bboxValues[k] = (float) JsonNumbers.parse(b, from, to);
    }
    ws();
    expect(']', "bbox must hold 4 numbers");
    t[n++] = ']';
    return n;
  }

  private boolean crowd() {
    byte c = b[pos];
    if (c == 't') {
      literal(TRUE);
      return true;
    }
    if (c == 'f') {
      literal(FALSE);
      return false;
    }
    return integer() != 0;
  }

  // ---- values ----

  /** A JSON integer (no fraction, no exponent) of at most 18 digits. */
  private long integer() {
    int p = pos;
    boolean negative = b[p] == '-';
    if (negative) p++;
    int from = p;
    long v = 0;
    while (b[p] >= '0' && b[p] <= '9') v = v * 10 + (b[p++] - '0');
    int digits = p - from;
    if (digits == 0 || digits > 18 || (digits > 1 && b[from] == '0')) throw fail("not an integer the scanner reads");
    byte c = b[p];
    if (c == '.' || c == 'e' || c == 'E') throw defer("a number where an integer belongs");
    pos = p;
    return negative ? -v : v;
  }

  /** Validates the JSON number at {@code p}; returns its end and moves past it. */
  private int numberEnd(int p) {
    int from = p;
    if (b[p] == '-') p++;
    if (b[p] == '0') {
      p++;
    } else if (b[p] >= '1' && b[p] <= '9') {
      p++;
      while (b[p] >= '0' && b[p] <= '9') p++;
    } else {
      pos = p;
      throw fail("not a number");
    }
    if (b[p] == '.') {
      p++;
      if (b[p] < '0' || b[p] > '9') {
        pos = p;
        throw fail("a decimal point without digits");
      }
      while (b[p] >= '0' && b[p] <= '9') p++;
    }
    if (b[p] == 'e' || b[p] == 'E') {
      p++;
      if (b[p] == '+' || b[p] == '-') p++;
      if (b[p] < '0' || b[p] > '9') {
        pos = p;
        throw fail("an exponent without digits");
      }
      while (b[p] >= '0' && b[p] <= '9') p++;
    }
    if (p - from > MAX_NUMBER) throw defer("a number longer than " + MAX_NUMBER + " characters");
    pos = p;
    return p;
  }

  /** A string value, decoded as Jackson decodes it; one with an unpaired surrogate is deferred (the parser refuses it). */
  private String string() {
    if (b[pos] != '"') throw fail("expected a string");
    int from = pos + 1;
    int to = stringEnd(from);
    if (to - from > MAX_STRING) throw defer("a string longer than " + MAX_STRING + " bytes");
    pos = to + 1;
    boolean escaped = false, ascii = true;
    for (int i = from; i < to; i++) {
      escaped |= b[i] == '\\';
      ascii &= b[i] >= 0;
    }
    String s;
    if (!escaped) {
      s = new String(b, from, to - from, ascii ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
    } else {
      s = unescape(from, to);
      if (Escape.hasLoneSurrogate(s)) throw defer("a string with an unpaired surrogate");
    }
    return s;
  }

  /** Decodes {@code b[from, to)}, a validated string body with escapes. */
  private String unescape(int from, int to) {
    StringBuilder sb = new StringBuilder(to - from);
    int run = from;
    for (int i = from; i < to; ) {
      if (b[i] != '\\') {
        i++;
        continue;
      }
      sb.append(new String(b, run, i - run, StandardCharsets.UTF_8));
      byte e = b[i + 1];
      switch (e) {
        case 'b': sb.append('\b'); break;
        case 'f': sb.append('\f'); break;
        case 'n': sb.append('\n'); break;
        case 'r': sb.append('\r'); break;
        case 't': sb.append('\t'); break;
        case 'u': sb.append((char) Integer.parseInt(new String(b, i + 2, 4, StandardCharsets.ISO_8859_1), 16)); break;
        default: sb.append((char) e); // " \ /
      }
      i += e == 'u' ? 6 : 2;
      run = i;
    }
    return sb.append(new String(b, run, to - run, StandardCharsets.UTF_8)).toString();
  }

  private void skipValue(int depth) {
    byte c = b[pos];
    if (c == '"') {
      skipString(MAX_STRING);
    } else if (c == '[') {
      skipArray(depth);
    } else if (c == '{') {
      skipObject(depth);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      numberEnd(pos);
    } else if (c == 't') {
      literal(TRUE);
    } else if (c == 'f') {
      literal(FALSE);
    } else if (c == 'n') {
      literal(NULL);
    } else {
      throw fail("not a JSON value");
    }
  }

  /** Skips an array; numbers (all of a segmentation polygon) take the short way. */
  private void skipArray(int depth) {
    if (depth > MAX_DEPTH) throw defer("nesting deeper than " + MAX_DEPTH);
    pos++;
    ws();
    if (b[pos] == ']') {
      pos++;
      return;
    }
    while (true) {
      byte c = b[pos];
      if (c == '-' || (c >= '0' && c <= '9')) numberEnd(pos);
      else skipValue(depth + 1);
      c = b[pos];
      if (c <= ' ') {
        ws();
        c = b[pos];
      }
      if (c == ',') {
        pos++;
        if (b[pos] <= ' ') ws();
      } else if (c == ']') {
        pos++;
        return;
      } else {
        throw fail("expected , or ] in an array");
      }
    }
  }

  private void skipObject(int depth) {
    if (depth > MAX_DEPTH) throw defer("nesting deeper than " + MAX_DEPTH);
    pos++;
    ws();
    if (b[pos] == '}') {
      pos++;
      return;
    }
    do {
      if (b[pos] != '"') throw fail("expected a key");
      skipString(MAX_KEY);
      expectColon();
      skipValue(depth + 1);
    } while (nextField());
  }

  private void literal(byte[] word) {
    for (byte c : word) {
      if (b[pos] != c) throw fail("not a JSON literal");
      pos++;
    }
  }

  // ---- strings and keys ----

  /** The index of the closing quote of the string whose body starts at {@code p}; validates escapes and UTF-8. */
  private int stringEnd(int p) {
    while (true) {
      byte c = b[p];
      if (c == '"') return p;
      if (c >= 0x20 && c != '\\') {
        p++;
      } else if (c == '\\') {
        p = escape(p);
      } else if (c < 0) {
        p = utf8(p);
      } else {
        pos = p;
        throw fail("a control character in a string");
      }
    }
  }

  private void skipString(int maxBytes) {
    int end = stringEnd(pos + 1);
    if (end - pos - 1 > maxBytes) throw defer("a string or key longer than " + maxBytes + " bytes");
    pos = end + 1;
  }

  private int escape(int p) {
    byte e = b[p + 1];
    if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') return p + 2;
    if (e != 'u') {
      pos = p + 1;
      throw fail("an unknown escape");
    }
    for (int k = 2; k < 6; k++) {
      byte h = b[p + k];
      if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
        pos = p + k;
        throw fail("a bad \\u escape");
      }
    }
    return p + 6;
  }

  /** One strictly valid UTF-8 sequence starting at {@code p} (no overlongs, surrogates or code points past U+10FFFF). */
  private int utf8(int p) {
    int c = b[p] & 0xff;
    int n, lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      pos = p;
      throw fail("a byte that does not start UTF-8");
    }
    for (int k = 1; k <= n; k++) {
      int d = b[p + k] & 0xff;
      if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xbf)) {
        pos = p + k;
        throw fail("invalid UTF-8");
      }
    }
    return p + n + 1;
  }

  /** Reads a key (plain ASCII; an escape or other byte in a key is deferred) into {@link #keyStart}/{@link #keyLen}. */
  private void readKey() {
    if (b[pos] != '"') throw fail("expected a key");
    int p = pos + 1;
    while (b[p] >= 0x20 && b[p] != '"' && b[p] != '\\') p++;
    if (b[p] != '"') {
      pos = p;
      throw b[p] == 0 && p >= len ? fail("a key cut short") : defer("a key with an escape, control or non-ASCII byte");
    }
    keyStart = pos + 1;
    keyLen = p - keyStart;
    if (keyLen > MAX_KEY) throw defer("a key longer than " + MAX_KEY + " bytes");
    pos = p + 1;
  }

  private boolean isKey(byte[] k) {
    if (keyLen != k.length) return false;
    for (int i = 0; i < keyLen; i++) if (b[keyStart + i] != k[i]) return false;
    return true;
  }

  private void expectColon() {
    ws();
    expect(':', "expected :");
    ws();
  }

  private void expect(char c, String what) {
    if (b[pos] != c) throw fail(what);
    pos++;
  }

  private void ws() {
    while (true) {
      byte c = b[pos];
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') pos++;
      else return;
    }
  }

  /** A syntax problem at {@code pos}: past a non-last part's end it means the split was wrong. */
  private RuntimeException fail(String what) {
    if (!last && pos >= len) return new Resync(what + " at the end of the part");
    return defer(what);
  }

  private Defer defer(String what) {
    return new Defer(what, pos);
  }

  // ---- planning helpers ----

  /**
   * Guesses which section an element starting at {@code b[0]} belongs to from its keys (an annotation has
   * {@code bbox} or {@code image_id}, an image {@code file_name}, a category {@code name}); null when the element
   * does not end inside {@code b[0, len)} or says nothing. A wrong guess only costs a {@link Resync}.
   */
  static Section guessSection(byte[] b, int len) {
    if (len == 0 || b[0] != '{') return null;
    CocoScanner s = new CocoScanner(b, len, Section.IMAGES, 0, new CocoColumns(16, 16));
    try {
      int keys = 0;
      for (boolean more = s.openElement(); more; more = s.nextField()) {
        s.readKey();
        s.expectColon();
        if (s.isKey(BBOX) || s.isKey(IMAGE_ID)) keys |= F_BBOX;
        else if (s.isKey(FILE_NAME)) keys |= F_FILE;
        else if (s.isKey(NAME) || s.isKey(SUPERCATEGORY)) keys |= F_NAME;
        s.skipValue(4);
      }
      if ((keys & F_BBOX) != 0) return Section.ANNOTATIONS;
      if ((keys & F_FILE) != 0) return Section.IMAGES;
      return (keys & F_NAME) != 0 ? Section.CATEGORIES : null;
    } catch (Defer | Resync e) {
      return null;
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}

package org.sr4g.coco;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.function.LongConsumer;
import org.sr4g.UserInputException;
import org.sr4g.io.Escape;

/**
 * The canonical reader of a COCO instances file: Jackson's streaming {@link JsonParser}, one pass, no tree;
 * {@code segmentation} and other unused fields are skipped token by token. It defines what a file means and what
 * every error says (file, line/column, record id): the fast {@link CocoScanner} only ever returns what this parser
 * would, and hands any file it is not sure about to it.
 */
final class CocoJsonParser {
  private static final JsonFactory JSON =
      JsonFactory.builder()
          // NaN/Infinity in a bbox is bad data to count and drop, not a reason to reject the whole file.
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
          .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
          .build();

  private final CocoSource src;
  private final int fileIndex;
  private final JsonParser p;
  private final CocoColumns b;
  /** The bbox as compact JSON bytes, e.g. {@code [1.5,2,3,4]} (JSON numbers are ASCII). */
  private final byte[] numberScratch = new byte[MAX_BBOX_TEXT];

  /** Longest bbox text kept ({@code [} + four numbers + separators); a longer one is an error. */
  static final int MAX_BBOX_TEXT = 4 * 64 + 8;

  private CocoJsonParser(CocoSource src, int fileIndex, JsonParser p, CocoColumns b) {
    this.src = src;
    this.fileIndex = fileIndex;
    this.p = p;
    this.b = b;
  }

  /** Reads a whole source; {@code progress} receives the bytes read so far. */
  static CocoColumns read(CocoSource src, int fileIndex, LongConsumer progress) {
    CocoColumns b = new CocoColumns();
    try (InputStream raw = src.open();
        InputStream in = new CountingInputStream(raw, progress);
        JsonParser p = JSON.createParser(in)) {
      try {
        new CocoJsonParser(src, fileIndex, p, b).parse();
      } catch (JsonParseException | StreamConstraintsException e) {
        // Some limits (number length, nesting) report no location of their own: the parser's is where it stopped.
        JsonLocation at = e.getLocation() != null ? e.getLocation() : p.currentLocation();
        throw new UserInputException(src + ": " + where(at) + ": malformed JSON: " + e.getOriginalMessage(), e);
      }
    } catch (IOException e) {
      throw new UserInputException(src + ": cannot read: " + e.getMessage(), e);
    } catch (UncheckedIOException e) {
      throw new UserInputException(src + ": cannot read: " + e.getCause().getMessage(), e);
    }
    return b;
  }

  static String where(JsonLocation loc) {
    if (loc == null) return "unknown position";
    return "line " + loc.getLineNr() + ", column " + loc.getColumnNr();
  }

  private UserInputException error(String what) {
    return new UserInputException(src + ": " + where(p.currentTokenLocation()) + ": " + what);
  }

  private void parse() throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) throw error("expected a JSON object at the top level (a COCO instances file)");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      switch (field) {
        case "images":
          expectArray(t, "images");
          while (p.nextToken() != JsonToken.END_ARRAY) image();
          b.sawImages = true;
          break;
        case "annotations":
          expectArray(t, "annotations");
          while (p.nextToken() != JsonToken.END_ARRAY) annotation();
          b.sawAnnotations = true;
          break;
        case "categories":
          expectArray(t, "categories");
          while (p.nextToken() != JsonToken.END_ARRAY) category();
          b.sawCategories = true;
          break;
        default:
          p.skipChildren();
      }
    }
    if (p.currentToken() != JsonToken.END_OBJECT) throw error("unexpected content at top level");
    if (p.nextToken() != null) throw error("trailing content after the top-level object");
  }

  /** A lone UTF-16 surrogate ("\\ud800" in the JSON) is no character: it cannot be written to train.jsonl as UTF-8. */
  private void requireUnicode(String s, String what) {
    if (Escape.hasLoneSurrogate(s))
      throw error(what + " " + Escape.quote(s) + " holds an unpaired UTF-16 surrogate (not a Unicode character)");
  }

  private void expectArray(JsonToken t, String name) {
    if (t != JsonToken.START_ARRAY) throw error("\"" + name + "\" must be an array");
  }

  private void expectObject(String what) {
    if (p.currentToken() != JsonToken.START_OBJECT) throw error("each entry of \"" + what + "\" must be an object");
  }

  private long longValue(String field, String record) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) throw error(record + ": \"" + field + "\" must be an integer");
    return p.getLongValue();
  }

  private void image() throws IOException {
    expectObject("images");
    JsonLocation at = p.currentTokenLocation();
    long id = Long.MIN_VALUE;
    String fileName = null, wText = null, hText = null;
    double width = Double.NaN, height = Double.NaN;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String f = p.currentName();
      JsonToken t = p.nextToken();
      switch (f) {
        case "id":
          id = longValue("id", "image");
          break;
        case "file_name":
          if (t != JsonToken.VALUE_STRING) throw error("image: \"file_name\" must be a string");
          fileName = p.getText();
          requireUnicode(fileName, "image: \"file_name\"");
          break;
        case "width":
          if (!t.isNumeric()) throw error("image: \"width\" must be a number");
          width = p.getDoubleValue();
          wText = p.getText();
          break;
        case "height":
          if (!t.isNumeric()) throw error("image: \"height\" must be a number");
          height = p.getDoubleValue();
          hText = p.getText();
          break;
        default:
          p.skipChildren();
      }
    }
    String rec = "image" + (id == Long.MIN_VALUE ? "" : " id " + id);
    String pos = src + ": " + where(at) + ": ";
    if (id == Long.MIN_VALUE) throw new UserInputException(pos + "image without \"id\"");
    if (fileName == null) throw new UserInputException(pos + rec + " has no \"file_name\"");
    if (wText == null || hText == null) throw new UserInputException(pos + rec + " has no \"width\"/\"height\"");
    if (!validSize(width, height)) {
      throw new UserInputException(pos + rec + " has invalid size " + wText + " x " + hText + " (must be positive)");
    }
    b.addImage(id, fileName, wText, hText, (float) width, (float) height, fileIndex);
  }

  /** What an image's size must be (both readers check the same). */
  static boolean validSize(double width, double height) {
    return width > 0 && height > 0 && Double.isFinite(width) && Double.isFinite(height);
  }

  private void category() throws IOException {
    expectObject("categories");
    JsonLocation at = p.currentTokenLocation();
    long id = Long.MIN_VALUE;
    String name = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String f = p.currentName();
      JsonToken t = p.nextToken();
      if (f.equals("id")) {
        id = longValue("id", "category");
      } else if (f.equals("name")) {
        if (t != JsonToken.VALUE_STRING) throw error("category: \"name\" must be a string");
        name = p.getText();
        requireUnicode(name, "category: \"name\"");
      } else {
        p.skipChildren();
      }
    }
    String pos = src + ": " + where(at) + ": ";
    if (id == Long.MIN_VALUE || name == null) throw new UserInputException(pos + "category without \"id\" or \"name\"");
    if (id < Integer.MIN_VALUE || id > Integer.MAX_VALUE) throw new UserInputException(pos + "category id " + id + " out of range");
    if (name.isBlank()) throw new UserInputException(pos + "category id " + id + " has an empty name");
    String prev = b.categories.putIfAbsent((int) id, name);
    if (prev != null && !prev.equals(name)) {
      throw new UserInputException(pos + "category id " + id + " is named \"" + name + "\" here but \"" + prev + "\" earlier");
    }
  }

  private void annotation() throws IOException {
    expectObject("annotations");
    JsonLocation at = p.currentTokenLocation();
    long id = Long.MIN_VALUE, imageId = Long.MIN_VALUE, categoryId = Long.MIN_VALUE;
    boolean crowd = false, haveBbox = false;
    float[] v = new float[4];
    int textLen = 0;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String f = p.currentName();
      JsonToken t = p.nextToken();
      switch (f) {
        case "id":
          id = longValue("id", "annotation");
          break;
        case "image_id":
          imageId = longValue("image_id", "annotation" + (id == Long.MIN_VALUE ? "" : " id " + id));
          break;
        case "category_id":
          categoryId = longValue("category_id", "annotation" + (id == Long.MIN_VALUE ? "" : " id " + id));
          break;
        case "iscrowd":
          if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) crowd = t == JsonToken.VALUE_TRUE;
          else if (t == JsonToken.VALUE_NUMBER_INT) crowd = p.getLongValue() != 0;
          else throw error("annotation: \"iscrowd\" must be 0, 1 or a boolean");
          break;
        case "bbox":
          if (t != JsonToken.START_ARRAY) throw error("annotation: \"bbox\" must be an array [x, y, w, h]");
          textLen = bbox(v);
          haveBbox = true;
          break;
        default:
          // segmentation, area, ...: skipped without building anything.
          p.skipChildren();
      }
    }
    String pos = src + ": " + where(at) + ": ";
    if (id == Long.MIN_VALUE) throw new UserInputException(pos + "annotation without \"id\"");
    String rec = "annotation id " + id;
    if (imageId == Long.MIN_VALUE) throw new UserInputException(pos + rec + " has no \"image_id\"");
    if (categoryId == Long.MIN_VALUE) throw new UserInputException(pos + rec + " has no \"category_id\"");
    if (!haveBbox) throw new UserInputException(pos + rec + " has no \"bbox\"");
    DropReason drop = dropReason(v[0], v[1], v[2], v[3]);
    if (drop != null) {
      b.drop(drop);
      return;
    }
    if (categoryId < Integer.MIN_VALUE || categoryId > Integer.MAX_VALUE) {
      throw new UserInputException(pos + rec + ": category_id " + categoryId + " out of range");
    }
    b.addAnnotation(id, imageId, (int) categoryId, v[0], v[1], v[2], v[3], crowd, numberScratch, 0, textLen, fileIndex);
  }

  /** Reads the bbox numbers into {@code v} and their text into the scratch; returns the text's length. */
  private int bbox(float[] v) throws IOException {
    byte[] out = numberScratch;
    out[0] = '[';
    int textLen = 1;
    int n = 0;
    for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
      if (e != JsonToken.VALUE_NUMBER_INT && e != JsonToken.VALUE_NUMBER_FLOAT) {
        throw error("annotation: \"bbox\" must hold 4 numbers");
      }
      if (n == 4) throw error("annotation: \"bbox\" has more than 4 numbers");
      // Parsed as float64 first, as JSON libraries do, then rounded to float32 (docs/relations.md).
      v[n++] = (float) p.getDoubleValue();
      int len = p.getTextLength();
      if (textLen + len + 2 > out.length) throw error("annotation: \"bbox\" number too long");
      if (n > 1) out[textLen++] = ',';
      char[] chars = p.getTextCharacters();
      for (int k = 0, off = p.getTextOffset(); k < len; k++) out[textLen++] = (byte) chars[off + k];
    }
    if (n != 4) throw error("annotation: \"bbox\" has " + n + " numbers, expected 4");
    out[textLen++] = ']';
    return textLen;
  }

  /** Why a box read from the file is dropped at once, or null (both readers decide the same way). */
  static DropReason dropReason(float x, float y, float w, float h) {
    if (!(Float.isFinite(x) && Float.isFinite(y) && Float.isFinite(w) && Float.isFinite(h))) return DropReason.NON_FINITE;
    if (!(w > 0 && h > 0)) return DropReason.NON_POSITIVE_SIZE;
    return null;
  }
}

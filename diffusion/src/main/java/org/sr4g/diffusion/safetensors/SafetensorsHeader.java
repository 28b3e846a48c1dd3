package org.sr4g.diffusion.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sr4g.UserInputException;
import org.sr4g.io.Escape;

/**
 * Parses and validates the JSON header of a safetensors file. Nothing here touches the data section: every offset is
 * checked against its size first, so a hostile header can never make the reader address memory outside the file.
 */
final class SafetensorsHeader {
  /** Same bound as the reference Rust implementation: real headers are a few hundred KB at most. */
  static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  static final String METADATA_KEY = "__metadata__";
  /** Tensors one header may declare: SDXL's UNet has ~1,700, the largest single-file LLM shards ~100,000. */
  static final int MAX_TENSORS = 200_000;
  /** Dimensions of one tensor. */
  static final int MAX_RANK = 16;
  /** {@code __metadata__}: entries and characters (keys and values together). */
  static final int MAX_METADATA_ENTRIES = 10_000;
  static final long MAX_METADATA_CHARS = 16L << 20;

  private static final JsonFactory JSON = JsonFactory.builder()
      .disable(com.fasterxml.jackson.core.StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
      .build();

  /** One validated tensor entry: offsets are relative to the start of the data section. */
  record Entry(String key, SafetensorsDType dtype, TensorInfo info, long begin, long end) {}

  final Map<String, Entry> entries;
  final Map<String, String> metadata;

  private SafetensorsHeader(Map<String, Entry> entries, Map<String, String> metadata) {
    this.entries = Collections.unmodifiableMap(entries);
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  /**
   * Validates the 8-byte header length prefix against the file size; returns the header length.
   *
   * @param prefix the little-endian u64 read from the first 8 bytes
   */
  static long checkHeaderLength(Path file, long prefix, long fileSize) {
    // An unsigned u64 above Long.MAX_VALUE reads as negative.
    if (prefix < 0 || prefix > MAX_HEADER_BYTES)
      throw new UserInputException(file + ": header length " + Long.toUnsignedString(prefix)
          + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes (not a safetensors file, or corrupt)");
    if (prefix > fileSize - 8)
      throw new UserInputException(file + ": header length " + prefix + " goes beyond the end of the file ("
          + fileSize + " bytes, " + (fileSize - 8) + " after the length prefix): truncated file?");
    if (prefix < 2) throw new UserInputException(file + ": header length " + prefix + " is too small for a JSON object");
    return prefix;
  }

  static SafetensorsHeader parse(Path file, byte[] headerBytes, long dataSize) {
    String f = Escape.text(file.toString());
    // The format: the header starts with '{' and may be padded with spaces (0x20) after its closing brace, nothing else.
    if (headerBytes.length == 0 || headerBytes[0] != '{')
      throw new UserInputException(f + ": header must be a JSON object starting with '{' (header byte 0)");
    Map<String, Entry> entries = new TreeMap<>();
    Map<String, String> metadata = new TreeMap<>();
    try (JsonParser p = JSON.createParser(headerBytes)) {
      p.nextToken();
      boolean seenMetadata = false;
      for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
        String key = p.currentName();
        p.nextToken();
        if (key.equals(METADATA_KEY)) {
          if (seenMetadata) throw new UserInputException(f + ": header has two '" + METADATA_KEY + "' entries");
          seenMetadata = true;
          readMetadata(f, p, metadata);
        } else {
          if (entries.size() >= MAX_TENSORS)
            throw new UserInputException(f + ": header declares more than " + MAX_TENSORS + " tensors (header byte "
                + p.currentLocation().getByteOffset() + ")");
          Entry e = readEntry(f, key, p, dataSize);
          if (entries.put(key, e) != null)
            throw new UserInputException(f + ": tensor " + Escape.quote(key) + " is declared twice");
        }
      }
      long end = p.currentLocation().getByteOffset();
      for (long i = end; i < headerBytes.length; i++)
        if (headerBytes[(int) i] != ' ')
          throw new UserInputException(f + ": header byte " + i + " after the JSON object is 0x"
              + String.format("%02x", headerBytes[(int) i] & 0xff) + "; only spaces (0x20) may pad the header");
    } catch (JsonProcessingException e) {
      throw new UserInputException(f + ": header is not well-formed JSON: " + Escape.text(e.getOriginalMessage())
          + (e.getLocation() != null ? " (header byte " + e.getLocation().getByteOffset() + ")" : ""));
    } catch (java.io.IOException e) {
      throw new UserInputException(f + ": header cannot be read as JSON: " + Escape.text(e.getMessage()));
    }
    checkNoOverlap(f, entries);
    return new SafetensorsHeader(entries, metadata);
  }

  private static void readMetadata(String file, JsonParser p, Map<String, String> out) throws java.io.IOException {
    if (p.currentToken() != JsonToken.START_OBJECT)
      throw new UserInputException(file + ": header entry '" + METADATA_KEY + "' must be an object of strings");
    long chars = 0;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
      String k = p.currentName();
      if (p.nextToken() != JsonToken.VALUE_STRING)
        throw new UserInputException(file + ": " + METADATA_KEY + " value of " + Escape.quote(k) + " must be a string");
      String v = p.getText();
      chars += k.length() + v.length();
      if (out.size() >= MAX_METADATA_ENTRIES || chars > MAX_METADATA_CHARS)
        throw new UserInputException(file + ": " + METADATA_KEY + " holds more than " + MAX_METADATA_ENTRIES
            + " entries or " + MAX_METADATA_CHARS + " characters (header byte " + p.currentLocation().getByteOffset() + ")");
      if (out.put(k, v) != null)
        throw new UserInputException(file + ": " + METADATA_KEY + " key " + Escape.quote(k) + " appears twice");
    }
  }

  private static Entry readEntry(String file, String key, JsonParser p, long dataSize) throws java.io.IOException {
    String where = file + ": tensor " + Escape.quote(key);
    if (key.isEmpty()) throw new UserInputException(file + ": header has a tensor with an empty name");
    if (p.currentToken() != JsonToken.START_OBJECT) throw new UserInputException(where + ": entry must be an object");
    SafetensorsDType dtype = null;
    long[] shape = null;
    long[] be = null;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
      String n = p.currentName();
      JsonToken v = p.nextToken();
      switch (n) {
        case "dtype" -> {
          if (dtype != null) throw new UserInputException(where + ": field 'dtype' appears twice");
          if (v != JsonToken.VALUE_STRING) throw new UserInputException(where + ": missing string field 'dtype'");
          String d = p.getText();
          dtype = SafetensorsDType.parse(d).orElseThrow(() -> new UserInputException(where + ": unsupported dtype "
              + Escape.quote(d) + " (known: F32, F16, BF16, I64, I32, U8, BOOL)"));
        }
        case "shape" -> {
          if (shape != null) throw new UserInputException(where + ": field 'shape' appears twice");
          shape = integers(p, where, "shape", MAX_RANK);
        }
        case "data_offsets" -> {
          if (be != null) throw new UserInputException(where + ": field 'data_offsets' appears twice");
          be = integers(p, where, "data_offsets", 2);
          if (be.length != 2) throw new UserInputException(where + ": 'data_offsets' must be an array [begin, end]");
        }
        default -> throw new UserInputException(where + ": unknown field " + Escape.quote(n)
            + " (expected dtype, shape, data_offsets)");
      }
    }
    if (dtype == null) throw new UserInputException(where + ": missing string field 'dtype'");
    if (shape == null) throw new UserInputException(where + ": missing array field 'shape'");
    if (be == null) throw new UserInputException(where + ": 'data_offsets' must be an array [begin, end]");
    long bytes = dtype.byteSize;
    for (long d : shape) {
      try {
        bytes = Math.multiplyExact(bytes, d);
      } catch (ArithmeticException e) {
        throw new UserInputException(where + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype
            + " overflows a 64-bit byte count");
      }
    }
    long begin = be[0];
    long end = be[1];
    if (begin > end) throw new UserInputException(where + ": data_offsets [" + begin + ", " + end + "] has begin > end");
    if (end > dataSize)
      throw new UserInputException(where + ": data_offsets [" + begin + ", " + end + "] lie outside the data section ("
          + dataSize + " bytes)");
    if (end - begin != bytes)
      throw new UserInputException(where + ": data_offsets [" + begin + ", " + end + "] span " + (end - begin)
          + " bytes but shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs " + bytes);
    return new Entry(key, dtype, new TensorInfo(dtype.name(), shape), begin, end);
  }

  /** A JSON array of at most {@code max} non-negative integers that fit a long: 32.0, 1e3 or "7" are refused. */
  private static long[] integers(JsonParser p, String where, String field, int max) throws java.io.IOException {
    if (p.currentToken() != JsonToken.START_ARRAY)
      throw new UserInputException(where + ": '" + field + "' must be an array of integers");
    long[] v = new long[Math.min(max, 8)];
    int n = 0;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER || p.getLongValue() < 0)
        throw new UserInputException(where + ": " + field + "[" + n + "] = " + Escape.text(p.getText(), 40)
            + " is not a non-negative integer");
      if (n >= max) throw new UserInputException(where + ": '" + field + "' has more than " + max + " entries");
      if (n == v.length) v = java.util.Arrays.copyOf(v, Math.min(max, v.length * 2));
      v[n++] = p.getLongValue();
    }
    return java.util.Arrays.copyOf(v, n);
  }

  private static void checkNoOverlap(String file, Map<String, Entry> entries) {
    List<Entry> byOffset = new ArrayList<>(entries.values());
    // Empty tensors occupy no bytes and may legitimately share an offset with a neighbour.
    byOffset.removeIf(e -> e.begin() == e.end());
    byOffset.sort(Comparator.comparingLong(Entry::begin));
    for (int i = 1; i < byOffset.size(); i++) {
      Entry prev = byOffset.get(i - 1);
      Entry cur = byOffset.get(i);
      if (cur.begin() < prev.end())
        throw new UserInputException(file + ": tensor " + Escape.quote(cur.key()) + " data_offsets [" + cur.begin()
            + ", " + cur.end() + "] overlap tensor " + Escape.quote(prev.key()) + " [" + prev.begin() + ", " + prev.end()
            + "]");
    }
  }
}

package org.sr4g.diffusion.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sr4g.UserInputException;

/**
 * Parses and validates the JSON header of a safetensors file. Nothing here touches the data section: every offset is
 * checked against its size first, so a hostile header can never make the reader address memory outside the file.
 */
final class SafetensorsHeader {
  /** Same bound as the reference Rust implementation: real headers are a few hundred KB at most. */
  static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  static final String METADATA_KEY = "__metadata__";

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
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
    JsonNode root;
    try {
      root = JSON.readTree(headerBytes);
    } catch (JsonProcessingException e) {
      throw new UserInputException(file + ": header is not well-formed JSON: " + e.getOriginalMessage()
          + (e.getLocation() != null ? " (header byte " + e.getLocation().getByteOffset() + ")" : ""), e);
    } catch (java.io.IOException e) {
      throw new UserInputException(file + ": header cannot be read as JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject())
      throw new UserInputException(file + ": header must be a JSON object, found "
          + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase()));

    Map<String, Entry> entries = new TreeMap<>();
    Map<String, String> metadata = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (f.getKey().equals(METADATA_KEY)) {
        readMetadata(file, f.getValue(), metadata);
      } else {
        entries.put(f.getKey(), readEntry(file, f.getKey(), f.getValue(), dataSize));
      }
    }
    checkNoOverlap(file, entries);
    return new SafetensorsHeader(entries, metadata);
  }

  private static void readMetadata(Path file, JsonNode node, Map<String, String> out) {
    if (!node.isObject())
      throw new UserInputException(file + ": header entry '" + METADATA_KEY + "' must be an object of strings");
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> m = it.next();
      if (!m.getValue().isTextual())
        throw new UserInputException(file + ": " + METADATA_KEY + " value of '" + m.getKey()
            + "' must be a string, found " + m.getValue().getNodeType().toString().toLowerCase());
      out.put(m.getKey(), m.getValue().textValue());
    }
  }

  private static Entry readEntry(Path file, String key, JsonNode node, long dataSize) {
    String where = file + ": tensor '" + key + "'";
    if (key.isEmpty()) throw new UserInputException(file + ": header has a tensor with an empty name");
    if (!node.isObject()) throw new UserInputException(where + ": entry must be an object");
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String n = names.next();
      if (!n.equals("dtype") && !n.equals("shape") && !n.equals("data_offsets"))
        throw new UserInputException(where + ": unknown field '" + n + "' (expected dtype, shape, data_offsets)");
    }
    JsonNode dtypeNode = node.get("dtype");
    if (dtypeNode == null || !dtypeNode.isTextual()) throw new UserInputException(where + ": missing string field 'dtype'");
    SafetensorsDType dtype = SafetensorsDType.parse(dtypeNode.textValue()).orElseThrow(() -> new UserInputException(
        where + ": unsupported dtype '" + dtypeNode.textValue() + "' (known: F32, F16, BF16, I64, I32, U8, BOOL)"));

    JsonNode shapeNode = node.get("shape");
    if (shapeNode == null || !shapeNode.isArray()) throw new UserInputException(where + ": missing array field 'shape'");
    long[] shape = new long[shapeNode.size()];
    long bytes = dtype.byteSize;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToExactIntegral() || !d.canConvertToLong() || d.asLong() < 0)
        throw new UserInputException(where + ": shape[" + i + "] = " + d + " is not a non-negative integer");
      shape[i] = d.asLong();
      try {
        bytes = Math.multiplyExact(bytes, shape[i]);
      } catch (ArithmeticException e) {
        throw new UserInputException(where + ": shape " + shapeNode + " of " + dtype + " overflows a 64-bit byte count");
      }
    }

    JsonNode off = node.get("data_offsets");
    if (off == null || !off.isArray() || off.size() != 2)
      throw new UserInputException(where + ": 'data_offsets' must be an array [begin, end]");
    long[] be = new long[2];
    for (int i = 0; i < 2; i++) {
      JsonNode o = off.get(i);
      if (!o.canConvertToExactIntegral() || !o.canConvertToLong() || o.asLong() < 0)
        throw new UserInputException(where + ": data_offsets[" + i + "] = " + o + " is not a non-negative integer");
      be[i] = o.asLong();
    }
    long begin = be[0];
    long end = be[1];
    if (begin > end) throw new UserInputException(where + ": data_offsets [" + begin + ", " + end + "] has begin > end");
    if (end > dataSize)
      throw new UserInputException(where + ": data_offsets [" + begin + ", " + end + "] lie outside the data section ("
          + dataSize + " bytes)");
    if (end - begin != bytes)
      throw new UserInputException(where + ": data_offsets [" + begin + ", " + end + "] span " + (end - begin)
          + " bytes but shape " + shapeNode + " of " + dtype + " needs " + bytes);
    return new Entry(key, dtype, new TensorInfo(dtype.name(), shape), begin, end);
  }

  private static void checkNoOverlap(Path file, Map<String, Entry> entries) {
    List<Entry> byOffset = new ArrayList<>(entries.values());
    // Empty tensors occupy no bytes and may legitimately share an offset with a neighbour.
    byOffset.removeIf(e -> e.begin() == e.end());
    byOffset.sort(Comparator.comparingLong(Entry::begin));
    for (int i = 1; i < byOffset.size(); i++) {
      Entry prev = byOffset.get(i - 1);
      Entry cur = byOffset.get(i);
      if (cur.begin() < prev.end())
        throw new UserInputException(file + ": tensor '" + cur.key() + "' data_offsets [" + cur.begin() + ", "
            + cur.end() + "] overlap tensor '" + prev.key() + "' [" + prev.begin() + ", " + prev.end() + "]");
    }
  }
}

package org.sr4g.evaluation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.sr4g.UserInputException;
import org.sr4g.relations.Relation;

/**
 * Reads prompts from either VISOR's {@code text_spatial_rel_phrases.json} (one JSON array) or the
 * {@code prompts_*.jsonl} files of {@code sr4g generate} (one object a line). Both carry the VISOR fields; extra
 * fields are ignored. Any malformed record is an error naming the file and the record, never a silent skip.
 */
public final class PromptReader {
  static final ObjectMapper JSON = new ObjectMapper();

  private PromptReader() {}

  public static PromptSet read(Path file, Set<String> unseenCategories) {
    List<EvalPrompt> out = new ArrayList<>();
    Set<Integer> ids = new HashSet<>();
    try {
      String first = firstNonBlankChar(file);
      if (first.equals("[")) {
        JsonNode root = JSON.readTree(file.toFile());
        for (int i = 0; i < root.size(); i++) {
          add(out, ids, parse(root.get(i), file + " element " + i, unseenCategories), file + " element " + i);
        }
      } else {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
          String line;
          int n = 0;
          while ((line = r.readLine()) != null) {
            n++;
            if (line.isBlank()) continue;
            String where = file + ":" + n;
            JsonNode node;
            try {
              node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
              throw new UserInputException(where + ": not valid JSON: " + e.getOriginalMessage());
            }
            add(out, ids, parse(node, where, unseenCategories), where);
          }
        }
      }
    } catch (JsonProcessingException e) {
      throw new UserInputException(file + ": not valid JSON at line " + e.getLocation().getLineNr() + ": "
          + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read prompts: " + e.getMessage(), e);
    }
    if (out.isEmpty()) throw new UserInputException(file + ": no prompts");
    return new PromptSet(out, file.toString());
  }

  private static void add(List<EvalPrompt> out, Set<Integer> ids, EvalPrompt p, String where) {
    if (!ids.add(p.uniqueId())) throw new UserInputException(where + ": duplicate unique_id " + p.uniqueId());
    out.add(p);
  }

  private static String firstNonBlankChar(Path file) throws IOException {
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      int c;
      while ((c = r.read()) != -1) {
        if (!Character.isWhitespace(c)) return String.valueOf((char) c);
      }
    }
    throw new UserInputException(file + ": empty file");
  }

  static EvalPrompt parse(JsonNode n, String where, Set<String> unseen) {
    if (n == null || !n.isObject()) throw new UserInputException(where + ": expected a JSON object");
    int id = requireInt(n, "unique_id", where);
    int numObjects = requireInt(n, "num_objects", where);
    String a = firstAttribute(n, "obj_1_attributes", where, true);
    String relType = n.hasNonNull("rel_type") ? n.get("rel_type").asText() : "";
    String text = n.hasNonNull("text") ? n.get("text").asText() : "";
    boolean pair = numObjects == 2 && !relType.equals("and");
    String b = firstAttribute(n, "obj_2_attributes", where, pair);
    Relation rel = null;
    if (pair) {
      // sr4g generate writes the canonical name too; VISOR files only have the phrase.
      String name = n.hasNonNull("relation") ? n.get("relation").asText() : relType;
      try {
        rel = Relation.parse(name);
      } catch (IllegalArgumentException e) {
        throw new UserInputException(where + " (unique_id " + id + "): " + e.getMessage());
      }
    }
    boolean isUnseen = unseen.contains(norm(a)) || (b != null && unseen.contains(norm(b)));
    return new EvalPrompt(id, numObjects, a, b, relType, text, rel, isUnseen);
  }

  static String norm(String label) {
    return label.trim().toLowerCase(Locale.ROOT);
  }

  private static int requireInt(JsonNode n, String field, String where) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) throw new UserInputException(where + ": missing field '" + field + "'");
    if (!v.canConvertToInt() || !(v.isIntegralNumber() || v.isTextual() && v.asText().matches("-?\\d+"))) {
      throw new UserInputException(where + ": field '" + field + "' must be an integer, got " + v);
    }
    return v.isTextual() ? Integer.parseInt(v.asText()) : v.intValue();
  }

  private static String firstAttribute(JsonNode n, String field, String where, boolean required) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull() || (v.isArray() && v.size() == 0)) {
      if (required) throw new UserInputException(where + ": missing or empty field '" + field + "'");
      return null;
    }
    // VISOR reads obj_k_attributes[0]; a bare string is accepted for hand-written files.
    JsonNode first = v.isArray() ? v.get(0) : v;
    if (!first.isTextual() || first.asText().isBlank()) {
      throw new UserInputException(where + ": field '" + field + "' must hold a non-empty name, got " + v);
    }
    return first.asText();
  }
}

package org.sr4g.evaluation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
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
    // Streaming, field by field: a tree per prompt cost most of a second on the 31,680 SR2D prompts.
    try (JsonParser p = JSON.getFactory().createParser(file.toFile())) {
      JsonToken t = p.nextToken();
      if (t == null) throw new UserInputException(file + ": empty file");
      boolean array = t == JsonToken.START_ARRAY;
      if (array) t = p.nextToken();
      int i = 0;
      while (t != null && t != JsonToken.END_ARRAY) {
        int line = p.currentLocation().getLineNr();
        String where = array ? file + " element " + i + " (line " + line + ")" : file + ":" + line;
        if (t != JsonToken.START_OBJECT) throw new UserInputException(where + ": expected a JSON object");
        EvalPrompt e = parse(p, where, unseenCategories);
        if (!ids.add(e.uniqueId())) throw new UserInputException(where + ": duplicate unique_id " + e.uniqueId());
        out.add(e);
        i++;
        t = p.nextToken();
      }
      if (array && p.nextToken() != null) throw new UserInputException(file + ": text after the prompt array");
    } catch (JsonProcessingException e) {
      throw new UserInputException(file + ":" + e.getLocation().getLineNr() + ": not valid JSON: "
          + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read prompts: " + e.getMessage(), e);
    }
    if (out.isEmpty()) throw new UserInputException(file + ": no prompts");
    return new PromptSet(out, file.toString());
  }

  /** Reads one prompt object; the parser is on its START_OBJECT and is left on its END_OBJECT. */
  static EvalPrompt parse(JsonParser p, String where, Set<String> unseen) throws IOException {
    Integer id = null;
    Integer numObjects = null;
    String a = null;
    String b = null;
    String relType = "";
    String text = "";
    String relation = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String f = p.currentName();
      JsonToken t = p.nextToken();
      switch (f) {
        case "unique_id":
          id = integer(p, t, f, where);
          break;
        case "num_objects":
          numObjects = integer(p, t, f, where);
          break;
        case "obj_1_attributes":
          a = firstAttribute(p, t, f, where);
          break;
        case "obj_2_attributes":
          b = firstAttribute(p, t, f, where);
          break;
        case "rel_type":
          relType = t == JsonToken.VALUE_NULL ? "" : p.getValueAsString("");
          break;
        case "text":
          text = t == JsonToken.VALUE_NULL ? "" : p.getValueAsString("");
          break;
        case "relation":
          relation = t == JsonToken.VALUE_STRING ? p.getText() : null;
          break;
        default:
          p.skipChildren();
      }
    }
    if (id == null) throw new UserInputException(where + ": missing field 'unique_id'");
    if (numObjects == null) throw new UserInputException(where + ": missing field 'num_objects'");
    if (a == null) throw new UserInputException(where + ": missing or empty field 'obj_1_attributes'");
    boolean pair = numObjects == 2 && !relType.equals("and");
    if (pair && b == null) throw new UserInputException(where + ": missing or empty field 'obj_2_attributes'");
    Relation rel = null;
    if (pair) {
      // sr4g generate writes the canonical name too; VISOR files only have the phrase.
      try {
        rel = Relation.parse(relation != null ? relation : relType);
      } catch (IllegalArgumentException e) {
        throw new UserInputException(where + " (unique_id " + id + "): " + e.getMessage());
      }
    }
    boolean isUnseen = !unseen.isEmpty() && (unseen.contains(norm(a)) || (b != null && unseen.contains(norm(b))));
    return new EvalPrompt(id, numObjects, a, b, relType, text, rel, isUnseen);
  }

  private static int integer(JsonParser p, JsonToken t, String field, String where) throws IOException {
    if (t == JsonToken.VALUE_NUMBER_INT) return p.getIntValue();
    if (t == JsonToken.VALUE_STRING && p.getText().matches("-?\\d{1,9}")) return Integer.parseInt(p.getText());
    throw new UserInputException(where + ": field '" + field + "' must be an integer, got " + p.getText());
  }

  /** VISOR reads obj_k_attributes[0]; a bare string is accepted for hand-written files. Null when absent/empty. */
  private static String firstAttribute(JsonParser p, JsonToken t, String field, String where) throws IOException {
    if (t == JsonToken.VALUE_NULL) return null;
    String first = null;
    if (t == JsonToken.VALUE_STRING) {
      first = p.getText();
    } else if (t == JsonToken.START_ARRAY) {
      JsonToken u;
      while ((u = p.nextToken()) != JsonToken.END_ARRAY) {
        // VISOR's single-object prompts have obj_2_attributes [null].
        if (u == JsonToken.VALUE_NULL) continue;
        if (u != JsonToken.VALUE_STRING) {
          throw new UserInputException(where + ": field '" + field + "' must hold names, got " + p.getText());
        }
        if (first == null) first = p.getText();
      }
      if (first == null) return null;
    } else {
      throw new UserInputException(where + ": field '" + field + "' must be an array of names");
    }
    if (first.isBlank()) throw new UserInputException(where + ": field '" + field + "' holds an empty name");
    return first;
  }

  static String norm(String label) {
    return label.trim().toLowerCase(Locale.ROOT);
  }
}

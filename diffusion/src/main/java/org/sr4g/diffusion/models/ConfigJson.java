package org.sr4g.diffusion.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.sr4g.UserInputException;

/** Reads the config.json files of Hugging Face / diffusers folders, naming the file and key in every error. */
public final class ConfigJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final JsonNode root;
  private final String source;

  private ConfigJson(JsonNode root, String source) {
    this.root = root;
    this.source = source;
  }

  public static ConfigJson read(Path file) {
    try {
      JsonNode n = MAPPER.readTree(file.toFile());
      if (n == null || !n.isObject()) throw new UserInputException(file + ": not a JSON object");
      return new ConfigJson(n, file.toString());
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read config: " + e.getMessage(), e);
    }
  }

  public static ConfigJson of(JsonNode root, String source) {
    return new ConfigJson(root, source);
  }

  public boolean has(String key) {
    JsonNode n = root.get(key);
    return n != null && !n.isNull();
  }

  private JsonNode need(String key) {
    if (!has(key)) throw new UserInputException(source + ": missing \"" + key + "\"");
    return root.get(key);
  }

  public int integer(String key) {
    JsonNode n = need(key);
    if (!n.canConvertToInt() || !n.isIntegralNumber()) throw bad(key, "an integer");
    return n.intValue();
  }

  public int integer(String key, int dflt) {
    return has(key) ? integer(key) : dflt;
  }

  public double number(String key, double dflt) {
    if (!has(key)) return dflt;
    JsonNode n = root.get(key);
    if (!n.isNumber()) throw bad(key, "a number");
    return n.doubleValue();
  }

  public boolean bool(String key, boolean dflt) {
    if (!has(key)) return dflt;
    JsonNode n = root.get(key);
    if (!n.isBoolean()) throw bad(key, "true or false");
    return n.booleanValue();
  }

  public String string(String key, String dflt) {
    if (!has(key)) return dflt;
    JsonNode n = root.get(key);
    if (!n.isTextual()) throw bad(key, "a string");
    return n.textValue();
  }

  /** The raw JSON value of {@code key} (null when absent). */
  public JsonNode node(String key) {
    return root.get(key);
  }

  /** The nested object {@code key} (e.g. OWL-ViT's {@code text_config}); an empty one when absent, as transformers defaults it. */
  public ConfigJson object(String key) {
    if (!has(key)) return new ConfigJson(MAPPER.createObjectNode(), source + " " + key);
    JsonNode n = root.get(key);
    if (!n.isObject()) throw bad(key, "an object");
    return new ConfigJson(n, source + " " + key);
  }

  public boolean isArray(String key) {
    return has(key) && root.get(key).isArray();
  }

  public List<Integer> integers(String key) {
    JsonNode n = need(key);
    if (!n.isArray()) throw bad(key, "a list of integers");
    List<Integer> r = new ArrayList<>();
    for (JsonNode e : n) {
      if (!e.isIntegralNumber()) throw bad(key, "a list of integers");
      r.add(e.intValue());
    }
    return r;
  }

  public List<String> strings(String key) {
    JsonNode n = need(key);
    if (!n.isArray()) throw bad(key, "a list of strings");
    List<String> r = new ArrayList<>();
    for (JsonNode e : n) {
      if (!e.isTextual()) throw bad(key, "a list of strings");
      r.add(e.textValue());
    }
    return r;
  }

  public UserInputException bad(String key, String want) {
    return new UserInputException(source + ": \"" + key + "\" must be " + want + ", got " + root.get(key));
  }

  public String source() {
    return source;
  }
}

package org.sr4g.diffusion.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sr4g.OptionValue;
import org.sr4g.UserInputException;
import org.sr4g.io.Escape;
import org.sr4g.io.InputPaths;

/** Reads {@code train.jsonl} and groups it into training examples per {@code --caption-sampling}. */
public final class TrainData {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TrainData() {}

  /** Every row; a malformed line is the user's mistake and is reported as {@code file:line: why}. */
  public static List<TrainRow> read(Path file) {
    List<TrainRow> rows = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String s;
      int line = 0;
      while ((s = r.readLine()) != null) {
        line++;
        if (s.isBlank()) continue;
        JsonNode n;
        try {
          n = JSON.readTree(s);
        } catch (JsonProcessingException e) {
          throw new UserInputException(file + ":" + line + ": not valid JSON: " + Escape.text(e.getOriginalMessage()));
        }
        if (n == null || !n.isObject()) throw new UserInputException(file + ":" + line + ": expected a JSON object");
        String fileName = text(n, "file_name", file, line);
        String caption = text(n, "caption", file, line);
        JsonNode rel = n.get("relation");
        if (rel != null && !rel.isTextual())
          throw new UserInputException(file + ":" + line + ": 'relation' must be a string");
        JsonNode id = n.get("image_id");
        if (id != null && !id.canConvertToLong())
          throw new UserInputException(file + ":" + line + ": 'image_id' must be an integer");
        // Checked here, before any work: a name that leaves --images (or cannot be a path) is refused at once.
        InputPaths.resolve(Path.of("."), fileName, file + ":" + line);
        rows.add(new TrainRow(fileName, caption, rel == null ? "" : rel.asText(), id == null ? -1 : id.asLong(), line));
      }
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (rows.isEmpty()) throw new UserInputException(file + ": no training rows");
    return rows;
  }

  /**
   * The image of {@code row} under {@code images}: refused when its name leaves the folder (also through a symbolic
   * link) or names something other than a regular file; null when no file is there (a counted skip).
   */
  public static Path image(Path images, TrainRow row) {
    String where = "train.jsonl:" + row.line();
    return InputPaths.check(images, InputPaths.resolve(images, row.fileName(), where), where);
  }

  private static String text(JsonNode n, String key, Path file, int line) {
    JsonNode v = n.get(key);
    if (v == null || !v.isTextual() || v.asText().isBlank())
      throw new UserInputException(file + ":" + line + ": missing or empty string field '" + key + "'");
    return v.asText();
  }

  /**
   * Training examples: {@code per-pair} gives one example per row (an image with many pairs is seen that many times
   * per epoch, as SR4G's paper setup does); {@code per-image} gives one example per image whose caption is drawn
   * from its rows each time it is used (images weigh equally).
   */
  public static List<List<TrainRow>> examples(List<TrainRow> rows, CaptionSampling sampling) {
    List<List<TrainRow>> out = new ArrayList<>();
    if (sampling == CaptionSampling.PER_PAIR) {
      for (TrainRow r : rows) out.add(List.of(r));
      return out;
    }
    Map<String, List<TrainRow>> byImage = new LinkedHashMap<>();
    for (TrainRow r : rows) byImage.computeIfAbsent(r.fileName(), k -> new ArrayList<>()).add(r);
    for (List<TrainRow> l : byImage.values()) out.add(List.copyOf(l));
    return out;
  }

  /** {@code --caption-sampling}: one example per row, or one per image with a caption drawn from its rows. */
  public enum CaptionSampling implements OptionValue {
    PER_PAIR,
    PER_IMAGE;

    @Override
    public boolean dashed() {
      return true;
    }

    /** The option's name, also what a checkpoint's fixed options record. */
    @Override
    public String toString() {
      return spelling();
    }

    public static CaptionSampling parse(String s) {
      return OptionValue.parse(CaptionSampling.class, "--caption-sampling", s);
    }
  }

}

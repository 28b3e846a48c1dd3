package org.sr4g.evaluation;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sr4g.UserInputException;
import org.sr4g.concurrent.OrderedParallel;

/**
 * Reads the three detection formats into {@link ImageOutcome}s. Policy (documented in docs/evaluation.md): malformed
 * input is an error naming file, record and problem (unknown prompt id, duplicate image key, NaN or inverted box,
 * non-positive image size, missing field); legal-but-notable input is a counted warning (images of prompts VISOR
 * skips, prompts with fewer images than expected or none, detections of other labels or below the threshold).
 */
public final class DetectionReaders {
  /** Format names accepted by {@code --format}. */
  public static final String VISOR = "visor";
  public static final String JSONL = "jsonl";
  public static final String COCO = "coco";

  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          // Duplicate image keys in a VISOR object must be an error, not "last one wins".
          .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          // Python's json writes NaN bare; read it so the error can say which box is not finite.
          .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          // Box coordinates are ~1.4 million decimals for SR2D; the JDK's parser was the top of the profile.
          .enable(com.fasterxml.jackson.core.StreamReadFeature.USE_FAST_DOUBLE_PARSER)
          .build();

  /** Files at least this big are parsed in parallel chunks (tests lower it to exercise the chunking). */
  static int parallelFrom = 4 << 20;

  private DetectionReaders() {}

  /** Guesses the format: a JSON array is COCO results, a first line holding an "image" field is JSONL, else VISOR. */
  public static String detectFormat(Path file) {
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null) {
        String t = line.strip();
        if (t.isEmpty()) continue;
        if (t.startsWith("[")) return COCO;
        if (t.startsWith("{") && t.endsWith("}") && hasJsonlField(t)) return JSONL;
        return VISOR;
      }
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read detections: " + e.getMessage(), e);
    }
    throw new UserInputException(file + ": empty detection file");
  }

  /**
   * True when the top level of a one-line object names "image" or "detections", looked at field by field so that a
   * malformed value later on the line (NaN box, missing bracket) still routes the file to the JSONL reader, whose
   * error says what is wrong.
   */
  private static boolean hasJsonlField(String line) {
    try (JsonParser p = FACTORY.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) return false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String f = p.currentName();
        if (f.equals("image") || f.equals("detections")) return true;
        p.nextToken();
        p.skipChildren();
      }
    } catch (IOException e) {
      // Fall through: not JSONL as far as we could read.
    }
    return false;
  }

  /** Format (a): VISOR's result object keyed {@code "<unique_id>_<k>"}; its stored {@code sra} is used as is. */
  public static Detections readVisor(Path file, PromptSet prompts, int imagesPerPrompt) {
    EvalWarnings w = new EvalWarnings();
    List<ImageOutcome> out = new ArrayList<>();
    try (JsonParser p = FACTORY.createParser(file.toFile())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new UserInputException(file + ": expected a JSON object keyed \"<unique_id>_<k>\" (VISOR results)");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        String where = file + " line " + p.currentLocation().getLineNr() + " key \"" + key + "\"";
        int[] idk = imageKey(key, where);
        p.nextToken();
        JsonNode v = PromptReader.JSON.readTree(p);
        int pi = promptIndex(prompts, idk[0], where);
        checkK(idk[1], imagesPerPrompt, where);
        EvalPrompt pr = prompts.get(pi);
        if (!v.isObject()) throw new UserInputException(where + ": expected an object with classes and sra");
        JsonNode classes = v.get("classes");
        if (classes == null || !classes.isArray()) {
          throw new UserInputException(where + ": missing field 'classes' (array of detected class names)");
        }
        JsonNode sraNode = v.get("sra");
        if (sraNode == null || sraNode.isNull()) throw new UserInputException(where + ": missing field 'sra'");
        boolean sra;
        if (sraNode.isBoolean()) sra = sraNode.booleanValue();
        else if (sraNode.isNumber() && (sraNode.doubleValue() == 0 || sraNode.doubleValue() == 1)) {
          sra = sraNode.doubleValue() == 1;
        } else throw new UserInputException(where + ": field 'sra' must be 0, 1, true or false, got " + sraNode);
        if (!pr.scored()) {
          w.add("images_of_unscored_prompts", key);
          out.add(new ImageOutcome(pi, idk[1], false, false, false, false, false));
          continue;
        }
        boolean a = false;
        boolean b = false;
        String na = PromptReader.norm(pr.objectA());
        String nb = PromptReader.norm(pr.objectB());
        for (JsonNode c : classes) {
          if (!c.isTextual()) throw new UserInputException(where + ": 'classes' must hold strings, got " + c);
          String l = PromptReader.norm(c.asText());
          a |= l.equals(na);
          b |= l.equals(nb);
        }
        // VISOR stores one centroid per detected class entry; with them the opposite of a projective relation can be
        // checked by VISOR's own centroid test. Other relations need boxes, which VISOR files do not keep.
        JsonNode cents = v.get("centroid");
        boolean geometric = false;
        boolean opposite = false;
        if (a && b && pr.relation().family() == org.sr4g.relations.Family.PROJECTIVE && cents != null
            && cents.isArray() && cents.size() == classes.size()) {
          geometric = true;
          opposite = visorCentroidTest(pr.relation().opposite(), classes, cents, na, nb, where);
        }
        out.add(new ImageOutcome(pi, idk[1], a, b, sra, opposite, geometric));
      }
    } catch (JsonParseException e) {
      throw new UserInputException(file + ": line " + e.getLocation().getLineNr() + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read detections: " + e.getMessage(), e);
    }
    return finish(VISOR, out, prompts, w, imagesPerPrompt);
  }

  /** Any pair (centroid of A, centroid of B) passes VISOR's test for a projective relation. */
  private static boolean visorCentroidTest(org.sr4g.relations.Relation r, JsonNode classes, JsonNode cents, String na,
      String nb, String where) {
    for (int i = 0; i < classes.size(); i++) {
      if (!PromptReader.norm(classes.get(i).asText()).equals(na)) continue;
      for (int j = 0; j < classes.size(); j++) {
        if (j == i || !PromptReader.norm(classes.get(j).asText()).equals(nb)) continue;
        double[] ci = centroid(cents.get(i), where);
        double[] cj = centroid(cents.get(j), where);
        double dx = ci[0] - cj[0];
        double dy = ci[1] - cj[1];
        boolean holds;
        switch (r) {
          case LEFT_OF:
            holds = dx < 0;
            break;
          case RIGHT_OF:
            holds = dx > 0;
            break;
          case ABOVE:
            holds = dy < 0;
            break;
          default:
            holds = dy > 0;
        }
        if (holds) return true;
      }
    }
    return false;
  }

  private static double[] centroid(JsonNode c, String where) {
    if (c == null || !c.isArray() || c.size() != 2 || !c.get(0).isNumber() || !c.get(1).isNumber()
        || !Double.isFinite(c.get(0).doubleValue()) || !Double.isFinite(c.get(1).doubleValue())) {
      throw new UserInputException(where + ": 'centroid' entries must be [x, y] finite numbers, got " + c);
    }
    return new double[] {c.get(0).doubleValue(), c.get(1).doubleValue()};
  }

  /** Format (b): one generated image a line with its detections in pixels. */
  public static Detections readJsonl(Path file, PromptSet prompts, OutcomeJudge judge, int imagesPerPrompt) {
    byte[] buf;
    try {
      buf = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read detections: " + e.getMessage(), e);
    }
    // Lines are independent, so the file is cut at line ends into one chunk per core and parsed in parallel: parsing
    // is nearly all of the 3 s budget for 126,720 images. Results are merged in file order, so the outcome, the
    // warnings and the first error reported do not depend on the number of chunks.
    int chunks = buf.length < parallelFrom ? 1 : Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    int[] cut = new int[chunks + 1];
    cut[chunks] = buf.length;
    for (int c = 1; c < chunks; c++) {
      int at = Math.max(cut[c - 1], (int) ((long) buf.length * c / chunks));
      while (at < buf.length && buf[at - 1] != '\n') at++;
      cut[c] = at;
    }
    int[] lineBase = new int[chunks];
    for (int c = 1; c < chunks; c++) {
      int n = 0;
      for (int i = cut[c - 1]; i < cut[c]; i++) if (buf[i] == '\n') n++;
      lineBase[c] = lineBase[c - 1] + n;
    }
    List<Chunk> parts = OrderedParallel.map("sr4g-eval-parse", chunks, chunks,
        c -> parseChunk(file, buf, cut[c], cut[c + 1] - cut[c], lineBase[c], prompts, judge, imagesPerPrompt));
    EvalWarnings w = new EvalWarnings();
    List<ImageOutcome> out = new ArrayList<>();
    int total = 0;
    for (Chunk part : parts) total += part.outcomes.size();
    Map<Long, Integer> seen = new HashMap<>(total * 2);
    for (Chunk part : parts) {
      for (int i = 0; i < part.outcomes.size(); i++) {
        ImageOutcome o = part.outcomes.get(i);
        int line = part.lines[i];
        Integer dup = seen.put(((long) prompts.get(o.promptIndex()).uniqueId() << 32) | o.imageIndex(), line);
        if (dup != null) {
          throw new UserInputException(at(file, line) + ": duplicate image \"" + part.images.get(i)
              + "\" (first on line " + dup + ")");
        }
      }
      out.addAll(part.outcomes);
      w.addAll(part.warnings);
    }
    return finish(JSONL, out, prompts, w, imagesPerPrompt);
  }

  /** The outcomes of one chunk of lines, with their line numbers and image names (for duplicate errors). */
  private static final class Chunk {
    final List<ImageOutcome> outcomes = new ArrayList<>();
    final List<String> images = new ArrayList<>();
    int[] lines = new int[1024];
    final EvalWarnings warnings = new EvalWarnings();
  }

  private static Chunk parseChunk(Path file, byte[] buf, int off, int len, int lineBase, PromptSet prompts,
      OutcomeJudge judge, int imagesPerPrompt) {
    Chunk chunk = new Chunk();
    EvalWarnings w = chunk.warnings;
    List<String> labels = new ArrayList<>();
    float[] scores = new float[16];
    float[] boxes = new float[64];
    // One parser over the chunk reading a sequence of root-level objects: no String per line, no parser per line.
    try (JsonParser p = FACTORY.createParser(buf, off, len)) {
      JsonToken root;
      while ((root = p.nextToken()) != null) {
        int ln = lineBase + p.currentLocation().getLineNr();
        if (root != JsonToken.START_OBJECT) throw new UserInputException(at(file, ln) + ": expected a JSON object");
        String image = null;
        int promptId = -1;
        boolean hasPromptId = false;
        double width = Double.NaN;
        double height = Double.NaN;
        boolean hasDetections = false;
        labels.clear();
        int n = 0;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String f = p.currentName();
          JsonToken t = p.nextToken();
          switch (f) {
            case "image":
              if (t != JsonToken.VALUE_STRING) throw new UserInputException(at(file, ln) + ": 'image' must be a string");
              image = p.getText();
              break;
            case "prompt_id":
              if (t != JsonToken.VALUE_NUMBER_INT) {
                throw new UserInputException(at(file, ln) + ": 'prompt_id' must be an integer");
              }
              promptId = p.getIntValue();
              hasPromptId = true;
              break;
            case "width":
              width = number(p, t, file, ln, -1, "width");
              break;
            case "height":
              height = number(p, t, file, ln, -1, "height");
              break;
            case "detections":
              if (t != JsonToken.START_ARRAY) {
                throw new UserInputException(at(file, ln) + ": 'detections' must be an array");
              }
              hasDetections = true;
              while (p.nextToken() == JsonToken.START_OBJECT) {
                if (n == scores.length) {
                  scores = java.util.Arrays.copyOf(scores, n * 2);
                  boxes = java.util.Arrays.copyOf(boxes, n * 8);
                }
                String label = null;
                double score = Double.NaN;
                boolean hasBox = false;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                  String g = p.currentName();
                  JsonToken u = p.nextToken();
                  if (g.equals("label")) {
                    if (u != JsonToken.VALUE_STRING) {
                      throw new UserInputException(at(file, ln, n) + ": 'label' must be a string");
                    }
                    label = p.getText();
                  } else if (g.equals("score")) {
                    score = number(p, u, file, ln, n, "score");
                  } else if (g.equals("box")) {
                    if (u != JsonToken.START_ARRAY) {
                      throw new UserInputException(at(file, ln, n) + ": 'box' must be [x0,y0,x1,y1]");
                    }
                    int c = 0;
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                      if (c == 4) throw new UserInputException(at(file, ln, n) + ": 'box' has more than 4 numbers");
                      boxes[4 * n + c++] = (float) number(p, p.currentToken(), file, ln, n, "box");
                    }
                    if (c != 4) throw new UserInputException(at(file, ln, n) + ": 'box' has " + c + " numbers, expected 4");
                    hasBox = true;
                  } else {
                    p.skipChildren();
                  }
                }
                if (label == null) throw new UserInputException(at(file, ln, n) + ": missing field 'label'");
                if (Double.isNaN(score)) throw new UserInputException(at(file, ln, n) + ": missing field 'score'");
                if (!hasBox) throw new UserInputException(at(file, ln, n) + ": missing field 'box'");
                checkBox(boxes, n, file, ln);
                labels.add(label);
                scores[n] = (float) score;
                n++;
              }
              if (p.currentToken() != JsonToken.END_ARRAY) {
                throw new UserInputException(at(file, ln) + ": 'detections' must hold objects");
              }
              break;
            default:
              p.skipChildren();
          }
        }
        String where = at(file, ln);
        if (image == null) throw new UserInputException(where + ": missing field 'image'");
        if (Double.isNaN(width)) throw new UserInputException(where + ": missing field 'width'");
        if (Double.isNaN(height)) throw new UserInputException(where + ": missing field 'height'");
        if (!hasDetections) throw new UserInputException(where + ": missing field 'detections' (use [] for none)");
        checkSize(width, height, where);
        int[] idk = imageKey(stripExtension(image), where + " image \"" + image + "\"");
        if (hasPromptId && promptId != idk[0]) {
          throw new UserInputException(where + ": prompt_id " + promptId + " disagrees with image name \"" + image + "\"");
        }
        int pi = promptIndex(prompts, idk[0], where);
        checkK(idk[1], imagesPerPrompt, where);
        if (chunk.outcomes.size() == chunk.lines.length) chunk.lines = java.util.Arrays.copyOf(chunk.lines, 2 * ln);
        chunk.lines[chunk.outcomes.size()] = ln;
        chunk.images.add(image);
        chunk.outcomes.add(judgeOne(judge, prompts.get(pi), pi, idk[1], (float) width, (float) height,
            labels.toArray(new String[0]), scores, boxes, n, w, image));
      }
    } catch (JsonParseException e) {
      throw new UserInputException(at(file, lineBase + e.getLocation().getLineNr()) + ": not valid JSON: "
          + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read detections: " + e.getMessage(), e);
    }
    return chunk;
  }

  private static String at(Path file, int line) {
    return file + ":" + line;
  }

  private static String at(Path file, int line, int detection) {
    return file + ":" + line + " detection " + detection;
  }

  private static void checkBox(float[] b, int i, Path file, int line) {
    for (int c = 0; c < 4; c++) {
      if (!Float.isFinite(b[4 * i + c])) checkBox(b, i, at(file, line, i));
    }
    if (b[4 * i + 2] < b[4 * i] || b[4 * i + 3] < b[4 * i + 1]) checkBox(b, i, at(file, line, i));
  }

  private static double number(JsonParser p, JsonToken t, Path file, int line, int det, String field)
      throws IOException {
    if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
      double v = p.getDoubleValue();
      if (Double.isFinite(v)) return v;
    }
    return number(p, t, det < 0 ? at(file, line) : at(file, line, det), field);
  }

  /**
   * Format (c): COCO detection results plus an image list in COCO form ({@code images: [{id, file_name, width,
   * height}]}, {@code categories: [{id, name}]}); {@code file_name} is {@code "<unique_id>_<k>.png"}. Images of the
   * list without any result are images with no detections.
   */
  public static Detections readCoco(Path results, Path imageList, PromptSet prompts, OutcomeJudge judge,
      int imagesPerPrompt) {
    if (imageList == null) {
      throw new UserInputException(results + ": COCO results need --images FILE (image list with sizes and categories)");
    }
    EvalWarnings w = new EvalWarnings();
    JsonNode list = readTree(imageList);
    JsonNode res = readTree(results);
    Map<Integer, String> categories = new HashMap<>();
    JsonNode cats = list.get("categories");
    if (cats == null || !cats.isArray()) throw new UserInputException(imageList + ": missing array 'categories'");
    for (int i = 0; i < cats.size(); i++) {
      JsonNode c = cats.get(i);
      String where = imageList + " categories[" + i + "]";
      categories.put(intField(c, "id", where), textField(c, "name", where));
    }
    JsonNode imgs = list.get("images");
    if (imgs == null || !imgs.isArray()) throw new UserInputException(imageList + ": missing array 'images'");
    Map<Integer, Integer> slotOfImage = new HashMap<>();
    Map<Long, String> seen = new HashMap<>();
    int m = imgs.size();
    int[] prompt = new int[m];
    int[] kk = new int[m];
    float[] ws = new float[m];
    float[] hs = new float[m];
    String[] names = new String[m];
    for (int i = 0; i < m; i++) {
      JsonNode im = imgs.get(i);
      String where = imageList + " images[" + i + "]";
      int id = intField(im, "id", where);
      String name = textField(im, "file_name", where);
      double wd = numField(im, "width", where);
      double ht = numField(im, "height", where);
      checkSize(wd, ht, where);
      int[] idk = imageKey(stripExtension(name), where + " file_name \"" + name + "\"");
      if (slotOfImage.put(id, i) != null) throw new UserInputException(where + ": duplicate image id " + id);
      String prev = seen.put(((long) idk[0] << 32) | idk[1], name);
      if (prev != null) throw new UserInputException(where + ": duplicate image key \"" + name + "\" (also " + prev + ")");
      prompt[i] = promptIndex(prompts, idk[0], where);
      checkK(idk[1], imagesPerPrompt, where);
      kk[i] = idk[1];
      ws[i] = (float) wd;
      hs[i] = (float) ht;
      names[i] = name;
    }
    if (!res.isArray()) throw new UserInputException(results + ": expected a JSON array of COCO detection results");
    List<List<Integer>> perImage = new ArrayList<>(m);
    for (int i = 0; i < m; i++) perImage.add(new ArrayList<>(4));
    int r = res.size();
    String[] labels = new String[r];
    float[] scores = new float[r];
    float[] boxes = new float[4 * r];
    for (int i = 0; i < r; i++) {
      JsonNode d = res.get(i);
      String where = results + " result[" + i + "]";
      int imageId = intField(d, "image_id", where);
      Integer slot = slotOfImage.get(imageId);
      if (slot == null) throw new UserInputException(where + ": image_id " + imageId + " is not in " + imageList);
      int cat = intField(d, "category_id", where);
      labels[i] = categories.get(cat);
      if (labels[i] == null) throw new UserInputException(where + ": unknown category_id " + cat);
      scores[i] = (float) numField(d, "score", where);
      JsonNode bb = d.get("bbox");
      if (bb == null || !bb.isArray() || bb.size() != 4) throw new UserInputException(where + ": 'bbox' must be [x,y,w,h]");
      for (int c = 0; c < 4; c++) {
        if (!bb.get(c).isNumber()) throw new UserInputException(where + ": 'bbox' must hold numbers, got " + bb);
      }
      float x = (float) bb.get(0).doubleValue();
      float y = (float) bb.get(1).doubleValue();
      boxes[4 * i] = x;
      boxes[4 * i + 1] = y;
      boxes[4 * i + 2] = x + (float) bb.get(2).doubleValue();
      boxes[4 * i + 3] = y + (float) bb.get(3).doubleValue();
      if (bb.get(2).doubleValue() < 0 || bb.get(3).doubleValue() < 0) {
        throw new UserInputException(where + ": negative box size in bbox " + bb);
      }
      checkBox(boxes, i, where);
      perImage.get(slot).add(i);
    }
    List<ImageOutcome> out = new ArrayList<>(m);
    for (int i = 0; i < m; i++) {
      List<Integer> ds = perImage.get(i);
      int n = ds.size();
      String[] l = new String[n];
      float[] s = new float[n];
      float[] b = new float[4 * n];
      for (int j = 0; j < n; j++) {
        int d = ds.get(j);
        l[j] = labels[d];
        s[j] = scores[d];
        System.arraycopy(boxes, 4 * d, b, 4 * j, 4);
      }
      out.add(judgeOne(judge, prompts.get(prompt[i]), prompt[i], kk[i], ws[i], hs[i], l, s, b, n, w, names[i]));
    }
    return finish(COCO, out, prompts, w, imagesPerPrompt);
  }

  private static ImageOutcome judgeOne(OutcomeJudge judge, EvalPrompt p, int pi, int k, float w, float h,
      String[] labels, float[] scores, float[] boxes, int n, EvalWarnings warnings, String image) {
    if (!p.scored()) {
      warnings.add("images_of_unscored_prompts", image);
      return new ImageOutcome(pi, k, false, false, false, false, false);
    }
    for (int i = 0; i < n; i++) {
      if (!judge.keeps(scores[i])) warnings.add("detections_not_above_threshold", image);
    }
    if (n == 0) warnings.add("images_without_detections", image);
    if (judge.capped(p, labels, scores, n)) warnings.add("images_with_boxes_cut_to_top_" + OutcomeJudge.MAX_BOXES_PER_OBJECT, image);
    return judge.judge(p, pi, k, w, h, labels, scores, boxes, n);
  }

  /** Counts images per scored prompt and warns about prompts with fewer images than expected, or none. */
  private static Detections finish(String format, List<ImageOutcome> out, PromptSet prompts, EvalWarnings w,
      int imagesPerPrompt) {
    int[] per = new int[prompts.size()];
    int max = 0;
    for (ImageOutcome o : out) max = Math.max(max, ++per[o.promptIndex()]);
    int expected = imagesPerPrompt > 0 ? imagesPerPrompt : max;
    for (int i = 0; i < per.length; i++) {
      EvalPrompt p = prompts.get(i);
      if (!p.scored()) continue;
      if (per[i] == 0) w.add("scored_prompts_without_images", "unique_id " + p.uniqueId());
      else if (per[i] < expected) w.add("prompts_with_fewer_images", "unique_id " + p.uniqueId() + " (" + per[i] + ")");
    }
    if (out.isEmpty()) throw new UserInputException("no images in the detection file");
    return new Detections(format, out, w);
  }

  /** Parses {@code "<unique_id>_<k>"}. */
  static int[] imageKey(String key, String where) {
    int u = key.lastIndexOf('_');
    try {
      if (u <= 0) throw new NumberFormatException();
      return new int[] {Integer.parseInt(key.substring(0, u)), Integer.parseInt(key.substring(u + 1))};
    } catch (NumberFormatException e) {
      throw new UserInputException(where + ": image key must look like \"<unique_id>_<k>\"");
    }
  }

  private static String stripExtension(String name) {
    int slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
    String base = name.substring(slash + 1);
    int dot = base.lastIndexOf('.');
    return dot > 0 ? base.substring(0, dot) : base;
  }

  private static int promptIndex(PromptSet prompts, int id, String where) {
    int i = prompts.indexOf(id);
    if (i < 0) throw new UserInputException(where + ": unknown prompt id " + id + " (not in " + prompts.source() + ")");
    return i;
  }

  private static void checkK(int k, int imagesPerPrompt, String where) {
    if (k < 0 || (imagesPerPrompt > 0 && k >= imagesPerPrompt)) {
      throw new UserInputException(where + ": image index " + k + " outside 0.." + (imagesPerPrompt - 1)
          + " (--images-per-prompt " + imagesPerPrompt + ")");
    }
  }

  private static void checkSize(double w, double h, String where) {
    if (!(w > 0) || !(h > 0) || Double.isInfinite(w) || Double.isInfinite(h)) {
      throw new UserInputException(where + ": image size must be positive and finite, got " + w + " x " + h);
    }
  }

  private static void checkBox(float[] b, int i, String where) {
    for (int c = 0; c < 4; c++) {
      if (!Float.isFinite(b[4 * i + c])) throw new UserInputException(where + ": box coordinate is not finite");
    }
    if (b[4 * i + 2] < b[4 * i] || b[4 * i + 3] < b[4 * i + 1]) {
      throw new UserInputException(where + ": negative box size (x1 < x0 or y1 < y0): [" + b[4 * i] + ", "
          + b[4 * i + 1] + ", " + b[4 * i + 2] + ", " + b[4 * i + 3] + "]");
    }
  }

  private static double number(JsonParser p, JsonToken t, String where, String field) throws IOException {
    if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
      double v = p.getDoubleValue();
      if (!Double.isFinite(v)) throw new UserInputException(where + ": '" + field + "' is not finite");
      return v;
    }
    if (t == JsonToken.VALUE_STRING && ("NaN".equals(p.getText()) || p.getText().contains("Infinity"))) {
      throw new UserInputException(where + ": '" + field + "' is " + p.getText());
    }
    throw new UserInputException(where + ": '" + field + "' must be a number, got " + p.getText());
  }

  private static JsonNode readTree(Path f) {
    try (JsonParser p = FACTORY.createParser(f.toFile())) {
      JsonNode n = PromptReader.JSON.readTree(p);
      if (n == null || n.isMissingNode()) throw new UserInputException(f + ": empty file");
      if (!n.isContainerNode()) throw new UserInputException(f + ": expected a JSON object or array, found " + n.getNodeType());
      return n;
    } catch (JsonParseException e) {
      throw new UserInputException(f + ": line " + e.getLocation().getLineNr() + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UserInputException(f + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static int intField(JsonNode n, String f, String where) {
    JsonNode v = n.get(f);
    if (v == null || !v.isIntegralNumber()) throw new UserInputException(where + ": missing integer field '" + f + "'");
    if (!v.canConvertToInt()) throw new UserInputException(where + ": '" + f + "' = " + v + " is out of range");
    return v.intValue();
  }

  private static double numField(JsonNode n, String f, String where) {
    JsonNode v = n.get(f);
    if (v == null || !v.isNumber()) throw new UserInputException(where + ": missing numeric field '" + f + "'");
    if (!Double.isFinite(v.doubleValue())) throw new UserInputException(where + ": '" + f + "' is not finite");
    return v.doubleValue();
  }

  private static String textField(JsonNode n, String f, String where) {
    JsonNode v = n.get(f);
    if (v == null || !v.isTextual()) throw new UserInputException(where + ": missing string field '" + f + "'");
    return v.asText();
  }
}

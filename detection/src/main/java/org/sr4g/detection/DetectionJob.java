package org.sr4g.detection;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.sr4g.UserInputException;
import org.sr4g.detection.image.ImageDecoder;
import org.sr4g.detection.image.RgbImage;
import org.sr4g.evaluation.EvalPrompt;
import org.sr4g.evaluation.PromptReader;
import org.sr4g.evaluation.PromptSet;
import org.sr4g.io.AtomicFiles;

/**
 * {@code sr4g detect}: OWL-ViT detections for the generated images {@code <unique_id>_<k>.png} of a prompt file,
 * written as the one-image-a-line JSONL that {@code sr4g eval} reads. Each image is queried as VISOR queries it: one
 * query per object of its prompt ({@code "a photo of a {name}"}, the raw names), labels are those names.
 *
 * <p><b>Resumable</b>: {@link #plan} reads the lines already in {@code --out} and leaves those images out; a line is
 * written whole (each batch's lines in one write, then forced to disk), a trailing partial line left by a killed run
 * is cut off when the run resumes, so a kill loses at most the batch in flight and the file never keeps half a line.
 * Batches are cut at fixed positions of the sorted image list, so a resumed run makes the same batches — and the same
 * file — as an uninterrupted one. The options that change the lines (model, threshold, keep-all, template) are kept
 * in {@code OUT.meta.json}; a resume with other ones is refused.
 */
public final class DetectionJob {
  private static final Pattern NAME = Pattern.compile("(\\d{1,9})_(\\d{1,9})\\.(png|jpe?g)", Pattern.CASE_INSENSITIVE);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFactory FACTORY = JSON.getFactory();

  /** Every option of a run. {@code threshold} is ignored with {@code keepAll} (every patch's best query is written). */
  public record Options(Path model, Path images, Path prompts, Path out, double threshold, int batch,
      String queryTemplate, boolean keepAll, boolean strict) {
    public Options {
      if (!(threshold >= 0 && threshold <= 1)) throw new UserInputException("--threshold must be in [0, 1], got " + threshold);
      if (batch < 1) throw new UserInputException("--batch must be at least 1, got " + batch);
      int at = queryTemplate.indexOf("{}");
      if (at < 0 || queryTemplate.indexOf("{}", at + 1) >= 0)
        throw new UserInputException("--query-template must contain {} exactly once, got \"" + queryTemplate + "\"");
    }
  }

  /** One generated image to detect on, with its queries (one per object) and the labels they stand for. */
  public record Image(Path file, String name, int promptId, int k, List<String> labels, List<String> queries) {}

  /** Counted, named problems that do not stop a run. */
  public record Warning(String what, int count, List<String> examples) {
    @Override
    public String toString() {
      return count + " " + what + (examples.isEmpty() ? "" : " (e.g. " + String.join(", ", examples) + ")");
    }
  }

  /** What a run will do, found before any model is loaded. */
  public record Plan(Options options, List<Image> all, Set<String> done, List<Warning> warnings, String resumeNote) {
    public int todo() {
      return all.size() - done.size();
    }
  }

  /** What a run did. */
  public record Summary(int detected, int skipped, List<String> unreadable, long detectionsWritten, double seconds) {
    public double imagesPerSecond() {
      return seconds > 0 ? detected / seconds : 0;
    }
  }

  /** Progress of a run: images done so far (this run), of how many, and the rate. */
  public interface Listener {
    void progress(int done, int todo, double imagesPerSecond);

    /** An image that cannot be read (named; the run goes on without it unless --strict). */
    default void unreadable(String message) {}
  }

  private DetectionJob() {}

  // ------------------------------------------------------------------------------------------------------- plan

  /** Finds the images, matches them to prompts, and reads what {@code --out} already holds. Changes nothing. */
  public static Plan plan(Options o) {
    if (!Files.isDirectory(o.images())) throw new UserInputException("--images " + o.images() + ": not a directory");
    if (!Files.isRegularFile(o.prompts())) throw new UserInputException("--prompts " + o.prompts() + ": no such file");
    PromptSet prompts = PromptReader.read(o.prompts(), Set.of());
    List<Image> all = new ArrayList<>();
    List<String> unmatched = new ArrayList<>();
    Map<String, Path> byKey = new HashMap<>();
    try (Stream<Path> files = Files.list(o.images())) {
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        if (name.startsWith(".") || !Files.isRegularFile(f)) continue; // temp files of a running `sample`, folders
        Path abs = f.toAbsolutePath().normalize(), out = o.out().toAbsolutePath().normalize();
        if (abs.equals(out) || abs.equals(metaFile(out))) continue; // --out kept beside the images
        Matcher m = NAME.matcher(name);
        int pi = m.matches() ? prompts.indexOf(Integer.parseInt(m.group(1))) : -1;
        if (pi < 0) {
          unmatched.add(name);
          continue;
        }
        String key = m.group(1) + "_" + m.group(2);
        Path before = byKey.put(key, f);
        if (before != null)
          throw new UserInputException(o.images() + ": two files for image " + key + ": " + before.getFileName() + " and " + name);
        EvalPrompt p = prompts.get(pi);
        List<String> labels = new ArrayList<>();
        for (String obj : new String[] {p.objectA(), p.objectB()}) if (obj != null && !obj.isBlank()) labels.add(obj);
        if (labels.isEmpty()) throw new UserInputException(o.prompts() + ": prompt " + p.uniqueId() + " names no object");
        List<String> queries = labels.stream().map(l -> o.queryTemplate().replace("{}", l)).toList();
        all.add(new Image(f, name, p.uniqueId(), Integer.parseInt(m.group(2)), List.copyOf(labels), queries));
      }
    } catch (IOException e) {
      throw new UserInputException(o.images() + ": cannot list: " + e.getMessage(), e);
    }
    all.sort(Comparator.comparingInt(Image::promptId).thenComparingInt(Image::k));
    List<Warning> warnings = new ArrayList<>();
    if (!unmatched.isEmpty())
      warnings.add(new Warning("file(s) in --images match no prompt (names must be <unique_id>_<k>.png of a prompt in "
          + o.prompts().getFileName() + ")", unmatched.size(), unmatched.subList(0, Math.min(3, unmatched.size()))));
    Resume r = resume(o);
    Set<String> names = new HashSet<>();
    for (Image i : all) names.add(i.name());
    Set<String> done = new HashSet<>(r.images());
    done.retainAll(names);
    return new Plan(o, List.copyOf(all), Set.copyOf(done), List.copyOf(warnings), r.note());
  }

  private record Resume(Set<String> images, String note) {}

  /** The images {@code --out} already holds; checks its settings file and that every complete line is JSON. */
  private static Resume resume(Options o) {
    Path out = o.out(), meta = metaFile(out);
    if (!Files.exists(out)) return new Resume(Set.of(), "");
    if (!Files.isRegularFile(out)) throw new UserInputException("--out " + out + ": not a file");
    if (!Files.isRegularFile(meta))
      throw new UserInputException("--out " + out + " exists but was not written by sr4g detect (no " + meta.getFileName()
          + "): move it away or choose another --out");
    checkMeta(o, meta);
    Set<String> images = new HashSet<>();
    int line = 0;
    byte[] all;
    try {
      all = Files.readAllBytes(out);
    } catch (IOException e) {
      throw new UserInputException(out + ": cannot read: " + e.getMessage(), e);
    }
    int start = 0;
    for (int i = 0; i < all.length; i++) {
      if (all[i] != '\n') continue;
      line++;
      try {
        JsonNode n = JSON.readTree(all, start, i - start);
        if (n == null || !n.path("image").isTextual()) throw new IOException("no \"image\" field");
        if (!images.add(n.get("image").asText()))
          throw new UserInputException(out + ":" + line + ": image " + n.get("image").asText() + " appears twice");
      } catch (IOException e) {
        throw new UserInputException(out + ":" + line + ": not a line of sr4g detect (" + e.getMessage().lines().findFirst().orElse("")
            + "): move the file away or choose another --out");
      }
      start = i + 1;
    }
    String note = start < all.length ? "the last line was incomplete (the image in flight when the previous run stopped): redone" : "";
    return new Resume(images, note);
  }

  /** The settings file beside {@code out}. */
  public static Path metaFile(Path out) {
    return out.resolveSibling(out.getFileName() + ".meta.json");
  }

  private static ObjectNode meta(Options o) {
    ObjectNode m = JSON.createObjectNode();
    m.put("model", o.model().toAbsolutePath().normalize().toString());
    m.put("query_template", o.queryTemplate());
    m.put("keep_all", o.keepAll());
    if (!o.keepAll()) m.put("threshold", o.threshold());
    return m;
  }

  private static void checkMeta(Options o, Path meta) {
    JsonNode was;
    try {
      was = JSON.readTree(meta.toFile());
    } catch (IOException e) {
      throw new UserInputException(meta + ": not valid JSON: " + e.getMessage());
    }
    ObjectNode now = meta(o);
    Map<String, String> option = new LinkedHashMap<>();
    option.put("model", "--model");
    option.put("query_template", "--query-template");
    option.put("keep_all", "--keep-all");
    option.put("threshold", "--threshold");
    for (Map.Entry<String, String> e : option.entrySet()) {
      JsonNode a = was.get(e.getKey()), b = now.get(e.getKey());
      if (a == null && b == null) continue;
      if (a == null || b == null || !a.asText().equals(b.asText()))
        throw new UserInputException("--out " + o.out() + " was written with " + e.getValue() + " "
            + (a == null ? "(none)" : a.asText()) + ", this run has " + (b == null ? "(none)" : b.asText())
            + ": use the same options to resume, or another --out");
    }
  }

  // -------------------------------------------------------------------------------------------------------- run

  /**
   * Detects every image of the plan not yet in {@code --out}, appending one line each. A corrupt image is reported
   * through {@code listener.unreadable} and counted (or, with {@code --strict}, stops the run with that error after
   * the lines of the finished batches).
   */
  public static Summary run(Detector detector, Plan plan, Listener listener) {
    Options o = plan.options();
    long t0 = System.nanoTime();
    List<List<Image>> batches = new ArrayList<>();
    for (int i = 0; i < plan.all().size(); i += o.batch()) {
      List<Image> b = new ArrayList<>();
      for (Image img : plan.all().subList(i, Math.min(plan.all().size(), i + o.batch())))
        if (!plan.done().contains(img.name())) b.add(img);
      if (!b.isEmpty()) batches.add(b);
    }
    List<String> unreadable = new ArrayList<>();
    int detected = 0;
    long written = 0;
    try {
      writeMeta(o);
      try (FileChannel ch = openOut(o.out())) {
        CompletableFuture<Prepared> next = batches.isEmpty() ? null : prepareAsync(detector, batches.get(0), o.strict());
        for (int bi = 0; bi < batches.size(); bi++) {
          Prepared p = join(next);
          // The next batch is decoded and preprocessed while this one runs in the model.
          next = bi + 1 < batches.size() ? prepareAsync(detector, batches.get(bi + 1), o.strict()) : null;
          for (String u : p.unreadable()) {
            unreadable.add(u);
            listener.unreadable(u);
          }
          if (p.images().isEmpty()) continue;
          List<PostProcess.Patches> results = detector.run(p.batch());
          ByteArrayOutputStream lines = new ByteArrayOutputStream();
          for (int i = 0; i < results.size(); i++) written += line(lines, p.images().get(i), results.get(i), o);
          write(ch, lines.toByteArray());
          detected += results.size();
          double s = (System.nanoTime() - t0) / 1e9;
          listener.progress(detected + unreadable.size(), plan.todo(), detected / s);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Summary(detected, plan.done().size(), List.copyOf(unreadable), written, (System.nanoTime() - t0) / 1e9);
  }

  private record Prepared(List<Image> images, Detector.Batch batch, List<String> unreadable) {}

  private static CompletableFuture<Prepared> prepareAsync(Detector d, List<Image> batch, boolean strict) {
    return CompletableFuture.supplyAsync(() -> {
      List<Image> ok = new ArrayList<>();
      List<RgbImage> pixels = new ArrayList<>();
      List<String> bad = new ArrayList<>();
      RgbImage[] decoded = new RgbImage[batch.size()];
      String[] errors = new String[batch.size()];
      java.util.stream.IntStream.range(0, batch.size()).parallel().forEach(i -> {
        try {
          decoded[i] = ImageDecoder.decode(batch.get(i).file());
        } catch (UserInputException e) {
          errors[i] = e.getMessage();
        }
      });
      for (int i = 0; i < batch.size(); i++) {
        if (errors[i] != null) {
          if (strict) throw new UserInputException(errors[i] + " (--strict)");
          bad.add(errors[i]);
        } else {
          ok.add(batch.get(i));
          pixels.add(decoded[i]);
        }
      }
      Detector.Batch b = ok.isEmpty() ? null : d.prepare(pixels, ok.stream().map(Image::queries).toList());
      return new Prepared(ok, b, bad);
    });
  }

  private static <T> T join(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      throw e;
    }
  }

  /** One JSONL line; returns how many detections it holds. */
  private static int line(ByteArrayOutputStream out, Image img, PostProcess.Patches p, Options o) throws IOException {
    int[] kept = o.keepAll() ? java.util.stream.IntStream.range(0, p.size()).toArray() : p.kept(o.threshold());
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("image", img.name());
      g.writeNumberField("prompt_id", img.promptId());
      g.writeNumberField("width", p.width());
      g.writeNumberField("height", p.height());
      g.writeArrayFieldStart("detections");
      for (int i : kept) {
        g.writeStartObject();
        g.writeStringField("label", img.labels().get(p.labels()[i]));
        g.writeNumberField("score", p.scores()[i]);
        g.writeArrayFieldStart("box");
        for (int c = 0; c < 4; c++) g.writeNumber(p.boxes()[4 * i + c]);
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    out.write('\n');
    return kept.length;
  }

  private static void writeMeta(Options o) throws IOException {
    Path meta = metaFile(o.out());
    if (Files.isRegularFile(meta)) return;
    Path parent = o.out().toAbsolutePath().getParent();
    if (parent != null) Files.createDirectories(parent);
    byte[] text = (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta(o)) + "\n").getBytes(StandardCharsets.UTF_8);
    AtomicFiles.write(meta, file -> file.write(text));
  }

  /** Opens {@code out} for appending, first cutting off a trailing partial line left by a killed run. */
  private static FileChannel openOut(Path out) throws IOException {
    FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
    long size = ch.size(), keep = size;
    ByteBuffer one = ByteBuffer.allocate(1);
    while (keep > 0) {
      one.clear();
      ch.read(one, keep - 1);
      if (one.get(0) == '\n') break;
      keep--;
    }
    if (keep < size) ch.truncate(keep);
    ch.position(keep);
    return ch;
  }

  private static void write(FileChannel ch, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) ch.write(b);
    ch.force(false);
  }
}

package org.sr4g.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import org.sr4g.UserInputException;
import org.sr4g.io.AtomicFiles;
import org.sr4g.io.OutputRules;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code sr4g evaluate}: sample → detect → eval in one command, each stage run by its own command ({@code sr4g
 * sample}, {@code sr4g detect}, {@code sr4g eval}) and skipped when complete, so an interrupted or repeated run does
 * only what is missing.
 */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Sample, detect and score a model in one command: metrics.json, report.html (and a comparison).",
    description = "Runs sr4g sample (images in OUT/images), sr4g detect with the OWL-ViT --detector"
        + " (OUT/detections.jsonl) and sr4g eval (OUT/metrics.json, OUT/report.html); with --baseline, compares with"
        + " another evaluate folder (OUT/comparison/). Each stage resumes where it stopped and is skipped when"
        + " complete. Any other option is passed to sr4g sample (--steps, --guidance, --seed, --width, --height,"
        + " --dtype, --variant, --negative-prompt, --clip-skip, --limit: see sr4g sample --help).",
    footer = {
      "",
      "Examples:",
      "  sr4g evaluate --model sd-v1-5 --detector google/owlvit-base-patch32 \\",
      "      --prompts prompts_test.jsonl --images-per-prompt 4 --out eval/base \\",
      "      --device cuda",
      "  sr4g evaluate --model run/model --detector google/owlvit-base-patch32 \\",
      "      --prompts prompts_test.jsonl --images-per-prompt 4 --out eval/tuned \\",
      "      --baseline eval/base --device cuda --steps 50"
    })
final class EvaluateCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "MODEL",
      description = "Stable Diffusion: a diffusers folder, a Hugging Face id (org/name[@rev], from the local cache) or a"
          + " single-file checkpoint") String model;
  @Option(names = "--detector", required = true, paramLabel = "MODEL",
      description = "OWL-ViT: a Hugging Face folder or id (org/name[@rev], from the local cache)") String detector;
  @Option(names = "--prompts", required = true, paramLabel = "FILE",
      description = "prompts_*.jsonl of sr4g generate, or VISOR's text_spatial_rel_phrases.json") Path prompts;
  @Option(names = "--images-per-prompt", defaultValue = "4", paramLabel = "N", description = "default: ${DEFAULT-VALUE}")
  int perPrompt;
  @Option(names = "--out", required = true, paramLabel = "DIR", description = "evaluation folder (created)") Path out;
  @Option(names = "--baseline", paramLabel = "DIR", description = "another evaluate folder: paired comparison with it")
  Path baseline;
  @Mixin DeviceOption device; // for sampling and detection
  @Option(names = "--threshold", defaultValue = "0.1", paramLabel = "T", description = "detection score threshold (default: ${DEFAULT-VALUE})")
  double threshold;
  @Option(names = "--detect-batch", defaultValue = "1", paramLabel = "N", description = "images per detector pass (default: ${DEFAULT-VALUE})")
  int detectBatch;
  @Option(names = "--detector-dtype", defaultValue = "f32", paramLabel = "T", converter = WeightType.Converter.class,
      description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})") WeightType detectorDtype;
  @Unmatched List<String> sampleOptions = new ArrayList<>();

  @Override
  public Integer call() throws IOException {
    if (perPrompt < 1) throw new UserInputException("--images-per-prompt must be at least 1");
    if (!Files.isRegularFile(prompts)) throw new UserInputException("--prompts " + prompts + ": no such file");
    Path baselineMetrics = baseline == null ? null : metricsOf(baseline);
    // OUT holds one folder per stage: images/ (sample), detections.jsonl (detect), eval/ (eval, replaced as a whole
    // when its inputs change), comparison/ (--baseline). OUT itself is only ever added to, so it is resumable.
    Path images = out.resolve("images"), detections = out.resolve("detections.jsonl"), evalDir = out.resolve("eval");
    Path metrics = evalDir.resolve("metrics.json");
    List<String> sample = new ArrayList<>(List.of("sample", "--model", model, "--prompts", prompts.toString(),
        "--images-per-prompt", String.valueOf(perPrompt), "--out", images.toString(), "--device", device.text));
    sample.addAll(sampleOptions);
    checkSampleOptions(sample);
    OutputRules.createResumable(out, "evaluate");
    PrintWriter w = spec.commandLine().getOut();

    int rc = stage(w, "sample", "images in " + images, sample);
    if (rc != 0) return rc;
    rc = stage(w, "detect", "detections in " + detections, List.of("detect", "--model", detector, "--images",
        images.toString(), "--prompts", prompts.toString(), "--out", detections.toString(), "--device", device.text,
        "--threshold", String.valueOf(threshold), "--batch", String.valueOf(detectBatch), "--dtype", detectorDtype.name(),
        "--quiet"));
    if (rc != 0) return rc;

    Path state = out.resolve("evaluate.json");
    ObjectNode now = JSON.createObjectNode();
    now.put("prompts_sha256", sha256(prompts));
    now.put("detections_sha256", sha256(detections));
    now.put("threshold", threshold);
    now.put("images_per_prompt", perPrompt);
    if (upToDate(state, now, metrics, evalDir.resolve("report.html"))) {
      heading(w, "eval", "up to date: " + metrics + " (nothing to do)");
    } else {
      rc = stage(w, "eval", "metrics in " + evalDir, withForceIfPresent(evalDir, List.of("eval", "--prompts",
          prompts.toString(), "--detections", detections.toString(), "--images-per-prompt", String.valueOf(perPrompt),
          "--threshold", String.valueOf(threshold), "--out", evalDir.toString())));
      if (rc != 0) return rc;
      writeState(state, now);
    }
    if (baseline != null) {
      Path cmp = out.resolve("comparison");
      ObjectNode pair = JSON.createObjectNode();
      pair.put("base_sha256", sha256(baselineMetrics));
      pair.put("tuned_sha256", sha256(metrics));
      Path cmpState = cmp.resolve("evaluate.json");
      if (upToDate(cmpState, pair, cmp.resolve("comparison.json"), cmp.resolve("report.html"))) {
        heading(w, "compare", "up to date: " + cmp.resolve("comparison.json") + " (nothing to do)");
      } else {
        rc = stage(w, "compare", baseline + " (base) vs " + out + " (tuned)", withForceIfPresent(cmp, List.of("eval",
            "--compare", baselineMetrics.toString(), metrics.toString(), "--out", cmp.toString())));
        if (rc != 0) return rc;
        writeState(cmpState, pair);
      }
    }
    w.println("evaluate: done: " + metrics + ", " + evalDir.resolve("report.html")
        + (baseline != null ? ", " + out.resolve("comparison/comparison.json") : ""));
    w.flush();
    return 0;
  }

  /** The metrics.json of an sr4g evaluate folder (in eval/) or of an sr4g eval folder. */
  private static Path metricsOf(Path dir) {
    for (Path m : List.of(dir.resolve("eval/metrics.json"), dir.resolve("metrics.json")))
      if (Files.isRegularFile(m)) return m;
    throw new UserInputException("--baseline " + dir + ": no eval/metrics.json or metrics.json (an sr4g evaluate or"
        + " sr4g eval folder)");
  }

  /** A stage's own output folder is sr4g's and is replaced when its inputs changed. */
  private static List<String> withForceIfPresent(Path stageOut, List<String> args) {
    if (!Files.exists(stageOut)) return args;
    List<String> forced = new ArrayList<>(args);
    forced.add("--force");
    return forced;
  }

  /** Refuses, before any work, an option that sr4g sample would refuse. */
  private static void checkSampleOptions(List<String> args) {
    try {
      new CommandLine(new SampleCommand()).parseArgs(args.subList(1, args.size()).toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      throw new UserInputException(e.getMessage() + " (options evaluate does not know are passed to sr4g sample)");
    }
  }

  /** Runs one stage as its own command, printing to this command's streams; returns its exit code. */
  private int stage(PrintWriter w, String name, String what, List<String> args) {
    heading(w, name, what);
    CommandLine cl = Sr4g.commandLine();
    cl.setOut(spec.commandLine().getOut());
    cl.setErr(spec.commandLine().getErr());
    return cl.execute(args.toArray(String[]::new));
  }

  private static void heading(PrintWriter w, String name, String what) {
    w.println("== " + name + ": " + what);
    w.flush();
  }

  /** True when {@code state} records the same inputs and every output exists. */
  private static boolean upToDate(Path state, ObjectNode now, Path... outputs) throws IOException {
    for (Path p : outputs) if (!Files.isRegularFile(p)) return false;
    if (!Files.isRegularFile(state)) return false;
    JsonNode was = JSON.readTree(state.toFile());
    return now.equals(was);
  }

  private static void writeState(Path state, ObjectNode now) throws IOException {
    Files.createDirectories(state.getParent());
    AtomicFiles.write(state, json -> JSON.writerWithDefaultPrettyPrinter().writeValue(json, now));
  }

  private static String sha256(Path file) throws IOException {
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

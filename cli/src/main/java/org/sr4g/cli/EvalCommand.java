package org.sr4g.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.sr4g.UserInputException;
import org.sr4g.dataset.OutputDir;
import org.sr4g.evaluation.Comparison;
import org.sr4g.evaluation.DetectionReaders;
import org.sr4g.evaluation.Detections;
import org.sr4g.evaluation.Evaluation;
import org.sr4g.evaluation.HtmlReport;
import org.sr4g.evaluation.MarkdownSummary;
import org.sr4g.evaluation.MetricsJson;
import org.sr4g.evaluation.OutcomeJudge;
import org.sr4g.evaluation.PromptReader;
import org.sr4g.evaluation.PromptSet;
import org.sr4g.evaluation.TripletCounts;
import org.sr4g.io.Escape;
import org.sr4g.io.InputPaths;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sr4g eval}: VISOR metrics for all 14 relations, breakdowns, bias, frequency correlation, comparison. */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    header = "Spatial evaluation: VISOR metrics for all 14 relations, breakdowns, comparison.",
    subcommands = {EvalSynthCommand.class},
    description = "Spatial evaluation with VISOR's metrics (OA, VISOR_cond, VISOR_uncond, VISOR_1..4), computed as"
        + " VISOR's visor.py does and extended to the 14 sr4g relations: breakdowns per relation, family and"
        + " seen/unseen objects, opposite-relation bias, frequency correlation, comparison of two runs. Writes"
        + " metrics.json and report.html to --out and prints a Markdown summary. Metrics: docs/evaluation.md.",
    footer = {
      "",
      "Examples:",
      "  # prompts of sr4g generate, JSONL detections, all breakdowns",
      "  sr4g eval --prompts prompts_test.jsonl --detections dets.jsonl \\",
      "      --triplets triplets.csv --manifest manifest.json --out eval/tuned",
      "  # VISOR's own result file (stored sra used as is)",
      "  sr4g eval --prompts text_spatial_rel_phrases.json --out eval/sd \\",
      "      --detections results_sd_text_spatial_rel_phrases_owlvit_0.1.json",
      "  # COCO detection results, VISOR's centroid test for left/right/above/below",
      "  sr4g eval --prompts p.json --detections coco_results.json \\",
      "      --images images.json --visor-compat --out eval/coco",
      "  # base vs tuned, paired bootstrap intervals",
      "  sr4g eval --compare eval/base/metrics.json eval/tuned/metrics.json \\",
      "      --out eval/compare",
      "  # synthetic detections with 60%% relation accuracy",
      "  sr4g eval synth --prompts prompts_test.jsonl --accuracy 0.6 --out dets.jsonl"
    })
final class EvalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--prompts", paramLabel = "FILE",
      description = "prompts_*.jsonl of sr4g generate, or VISOR's text_spatial_rel_phrases.json")
  Path prompts;

  @Option(names = "--detections", paramLabel = "FILE",
      description = "VISOR results object, detections JSONL (one image a line) or COCO detection results")
  Path detections;

  /** The detection file formats; {@code auto} sniffs the file ({@link DetectionReaders#detectFormat}). */
  enum Format { auto, visor, jsonl, coco }

  @Option(names = "--format", paramLabel = "FMT", defaultValue = "auto",
      description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}: from the file's first bytes)")
  Format format;

  @Option(names = "--images", paramLabel = "FILE",
      description = "for COCO results: COCO-style image list {images:[{id,file_name,width,height}], categories}")
  Path images;

  @Option(names = "--threshold", defaultValue = "0.1",
      description = "keep detections with score > this, as VISOR (formats jsonl, coco; default: ${DEFAULT-VALUE})")
  double threshold;

  @Option(names = "--images-per-prompt", defaultValue = "0", paramLabel = "N",
      description = "expected images per prompt (default: ${DEFAULT-VALUE} = infer: the largest count seen)")
  int imagesPerPrompt;

  @Option(names = "--visor-compat",
      description = "left/right/above/below by VISOR's centroid test instead of the sr4g rule engine")
  boolean visorCompat;

  @Option(names = "--triplets", paramLabel = "FILE", description = "triplets.csv of sr4g generate (frequency analysis)")
  Path triplets;

  @Option(names = "--manifest", paramLabel = "FILE", description = "manifest.json with unseen_categories (seen/unseen)")
  Path manifest;

  @Option(names = "--compare", arity = "2", paramLabel = "METRICS_JSON",
      description = "compare two metrics.json files (base, tuned) with paired bootstrap intervals")
  List<Path> compare;

  @Option(names = "--bootstrap", defaultValue = "1000", description = "bootstrap resamples (default: ${DEFAULT-VALUE})")
  int bootstrap;

  @Option(names = "--seed", defaultValue = "20240601", description = "bootstrap seed (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--out", paramLabel = "DIR", description = "output directory (created; written all or nothing)")
  Path out;

  @Option(names = "--force", description = "replace a previous sr4g output in --out (never a folder sr4g did not write)")
  boolean force;

  @Option(names = "--quiet", description = "do not print the Markdown summary")
  boolean quiet;

  @Option(names = "--timings", description = "print the time of each phase to stderr (benchmarking)")
  boolean timings;

  private long t0 = System.nanoTime();

  private void phase(String name) {
    if (!timings) return;
    long now = System.nanoTime();
    spec.commandLine().getErr().printf("sr4g eval: %-12s %7.0f ms%n", name, (now - t0) / 1e6);
    t0 = now;
  }

  @Override
  public Integer call() throws IOException {
    if (out == null) throw new UserInputException("missing --out DIR");
    if (bootstrap < 0) throw new UserInputException("--bootstrap must be >= 0, got " + bootstrap);
    if (!(threshold >= 0 && threshold <= 1)) throw new UserInputException("--threshold must be in [0, 1], got " + threshold);
    if (imagesPerPrompt < 0) throw new UserInputException("--images-per-prompt must be >= 0, got " + imagesPerPrompt);
    PrintWriter stdout = spec.commandLine().getOut();
    if (compare != null) {
      if (prompts != null || detections != null) {
        throw new UserInputException("--compare takes two metrics.json files; do not also give --prompts/--detections");
      }
      for (Path p : compare) requireFile(p, "--compare");
      try (OutputDir dir = OutputDir.prepare("eval", out, force, compare)) {
        Comparison.Result r = Comparison.compare(compare.get(0), compare.get(1), bootstrap, seed);
        MetricsJson.writeComparison(dir.file("comparison.json"), r);
        HtmlReport.writeComparison(dir.file("report.html"), r);
        dir.commit();
        if (!quiet) stdout.print(Escape.lines(MarkdownSummary.of(r)));
      }
      stdout.println("wrote " + out.resolve("comparison.json") + " and " + out.resolve("report.html"));
      stdout.flush();
      return 0;
    }
    if (prompts == null) throw new UserInputException("missing --prompts FILE (or --compare BASE TUNED)");
    if (detections == null) throw new UserInputException("missing --detections FILE");
    List<Path> inputs = new java.util.ArrayList<>(List.of(prompts, detections));
    for (Path p : new Path[] {images, triplets, manifest}) if (p != null) inputs.add(p);
    try (OutputDir dir = OutputDir.prepare("eval", out, force, inputs)) {
      evaluate(dir, stdout);
      dir.commit();
    }
    stdout.println("wrote " + out.resolve("metrics.json") + " and " + out.resolve("report.html"));
    stdout.flush();
    return 0;
  }

  private void evaluate(OutputDir dir, PrintWriter stdout) throws IOException {
    requireFile(prompts, "--prompts");
    requireFile(detections, "--detections");
    Set<String> unseen = manifest == null ? Set.of() : Evaluation.unseenCategories(requireFile(manifest, "--manifest"));
    phase("start");
    PromptSet ps = PromptReader.read(prompts, unseen);
    phase("prompts");
    TripletCounts tc = triplets == null ? null : TripletCounts.read(requireFile(triplets, "--triplets"));
    String fmt = format == Format.auto ? DetectionReaders.detectFormat(detections) : format.name();
    OutcomeJudge judge = new OutcomeJudge(threshold, visorCompat);
    Detections d;
    switch (fmt) {
      case DetectionReaders.VISOR -> {
        if (visorCompat) {
          spec.commandLine().getErr().println("sr4g eval: note: VISOR result files carry their own sra; --visor-compat has no effect");
        }
        d = DetectionReaders.readVisor(detections, ps, imagesPerPrompt);
      }
      case DetectionReaders.JSONL -> d = DetectionReaders.readJsonl(detections, ps, judge, imagesPerPrompt);
      case DetectionReaders.COCO -> d = DetectionReaders.readCoco(detections, images, ps, judge, imagesPerPrompt);
      default -> throw new UserInputException("--format must be auto, visor, jsonl or coco, got '" + format + "'");
    }
    phase("detections");
    Evaluation e = new Evaluation(ps, d, manifest != null, tc, bootstrap, seed);
    phase("metrics");
    MetricsJson.Config cfg = new MetricsJson.Config(prompts.toString(), detections.toString(), d.format(),
        threshold, visorCompat, imagesPerPrompt, triplets == null ? null : triplets.toString(),
        manifest == null ? null : manifest.toString(), bootstrap, seed);
    MetricsJson.write(dir.file("metrics.json"), e, cfg);
    HtmlReport.write(dir.file("report.html"), e, cfg);
    phase("write");
    if (!quiet) stdout.print(Escape.lines(MarkdownSummary.of(e)));
  }

  static Path requireFile(Path p, String option) {
    return InputPaths.requireRegularFile(p, option);
  }

}

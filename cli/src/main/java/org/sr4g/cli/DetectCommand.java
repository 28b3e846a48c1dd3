package org.sr4g.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sr4g.diffusion.ModelSources;
import org.sr4g.detection.DetectionJob;
import org.sr4g.detection.Detector;
import org.sr4g.detection.OwlVitFolder;
import org.sr4g.diffusion.Precision;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sr4g detect}: OWL-ViT detections of generated images, as VISOR makes them, for {@code sr4g eval}. */
@Command(
    name = "detect",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Detect the objects of each prompt in its generated images with OWL-ViT (resumable JSONL for sr4g eval).",
    description = "Runs OWL-ViT v1 (a Hugging Face folder: config.json, preprocessor_config.json, model.safetensors or"
        + " pytorch_model.bin, vocab.json, merges.txt) on every <unique_id>_<k>.png in --images, querying each image"
        + " with its prompt's two objects as VISOR does (\"a photo of a {name}\"), and writes one JSON line per image"
        + " (image, prompt_id, width, height, detections with label, score and box x0,y0,x1,y1 in pixels) to --out."
        + " Images already in --out are skipped, so an interrupted run resumes where it stopped. Details:"
        + " docs/detection.md.",
    footer = {
      "",
      "Examples:",
      "  sr4g detect --model google/owlvit-base-patch32 --images images \\",
      "      --prompts prompts_test.jsonl --out dets.jsonl",
      "  # every patch, for sr4g eval --threshold:",
      "  sr4g detect --model google/owlvit-base-patch32 --images images \\",
      "      --prompts text_spatial_rel_phrases.json --out dets-all.jsonl --keep-all \\",
      "      --device cuda --batch 16"
    })
final class DetectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "MODEL",
      description = "OWL-ViT: a Hugging Face folder, or an id org/name[@rev] found in the local Hugging Face cache")
  String modelSpec;
  @Option(names = "--images", required = true, paramLabel = "DIR", description = "folder of <unique_id>_<k>.png images")
  Path images;
  @Option(names = "--prompts", required = true, paramLabel = "FILE",
      description = "prompts_*.jsonl of sr4g generate, or VISOR's text_spatial_rel_phrases.json") Path prompts;
  @Option(names = "--out", required = true, paramLabel = "FILE", description = "detections JSONL (appended on resume)")
  Path out;
  @Option(names = "--threshold", defaultValue = "0.1", paramLabel = "T",
      description = "keep detections with score > T, as VISOR (default: ${DEFAULT-VALUE})") double threshold;
  @Option(names = "--keep-all", description = "write every patch's best query whatever its score (for sr4g eval --threshold sweeps)")
  boolean keepAll;
  @Option(names = "--batch", defaultValue = "1", paramLabel = "N",
      description = "images per forward pass: raise it on a GPU; on the CPU batching does not pay (default: ${DEFAULT-VALUE})")
  int batch;
  @Mixin DeviceOption device;
  @Option(names = "--dtype", defaultValue = "f32", paramLabel = "T", converter = WeightType.Converter.class,
      description = "f32, f16 (CUDA) or bf16 (CUDA; CPU where libtorch supports it) (default: ${DEFAULT-VALUE})")
  WeightType dtype;
  @Option(names = "--query-template", defaultValue = "a photo of a {}", paramLabel = "TEXT",
      description = "query per object, {} is the name (default: \"${DEFAULT-VALUE}\", VISOR's)") String template;
  @Option(names = "--strict", description = "stop at the first unreadable image instead of naming and counting it")
  boolean strict;
  @Option(names = "--quiet", description = "no progress bar") boolean quiet;

  @Override
  public Integer call() {
    Path model = ModelSources.folder(modelSpec, "--model");
    DetectionJob.Options o = new DetectionJob.Options(model, images, prompts, out, threshold, batch, template, keepAll, strict);
    Device dev = device.device();
    DType dt = dtype.dtype();
    Precision.require(dt, dev);
    DetectionJob.Plan plan = DetectionJob.plan(o);
    PrintWriter w = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String name = spec.qualifiedName();
    plan.warnings().forEach(x -> err.println(name + ": warning: " + x));
    if (!plan.resumeNote().isEmpty()) err.println(name + ": note: " + plan.resumeNote());
    if (plan.all().isEmpty()) {
      w.println("no images of the prompts in " + images + " (names must be <unique_id>_<k>.png)");
      w.flush();
      return 0;
    }
    if (plan.todo() == 0) {
      w.println("nothing to do: all " + plan.all().size() + " images already in " + out);
      w.flush();
      return 0;
    }
    OwlVitFolder folder = OwlVitFolder.open(model);
    folder.requireValid(); // every bad file and weight key named before any work
    ProgressBar bar = new ProgressBar(System.err, quiet);
    DetectionJob.Summary s;
    try (Detector d = Detector.load(folder, dev, dt)) {
      s = DetectionJob.run(d, plan, new DetectionJob.Listener() {
        @Override
        public void progress(int done, int todo, double rate) {
          bar.update("detect", done, todo, String.format(Locale.ROOT, "%d/%d  %.2f images/s", done, todo, rate));
        }

        @Override
        public void unreadable(String message) {
          bar.finish();
          err.println(name + ": warning: skipped unreadable image: " + message);
          err.flush();
        }
      });
    } finally {
      bar.finish();
    }
    w.printf(Locale.ROOT, "detected %d images in %.1f s (%.2f images/s, batch %d, %s %s): %d detections %s%n",
        s.detected(), s.seconds(), s.imagesPerSecond(), batch, dev, Precision.name(dt), s.detectionsWritten(),
        keepAll ? "(every patch)" : "with score > " + threshold);
    if (s.skipped() > 0) w.println("skipped " + s.skipped() + " images already in " + out);
    if (!s.unreadable().isEmpty())
      w.println(s.unreadable().size() + " unreadable image(s) left out (named above; --strict stops at the first)");
    for (DetectionJob.Warning x : plan.warnings()) w.println("warning: " + x);
    w.println("wrote " + out);
    w.flush();
    return 0;
  }
}

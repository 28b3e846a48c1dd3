package org.sr4g.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.sr4g.diffusion.ModelSources;
import org.sr4g.diffusion.training.TrainOptions;
import org.sr4g.diffusion.training.Trainer;
import org.sr4g.diffusion.training.TrainingHooks;
import org.sr4g.diffusion.training.distributed.DistributedFailure;
import org.sr4g.diffusion.training.distributed.WorkerLauncher;
import org.sr4g.diffusion.training.distributed.World;
import org.sr4g.io.Escape;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sr4g train}: fine-tune a diffusers model's UNet on SR4G rows (docs/training.md). */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Fine-tune the UNet of a Stable Diffusion folder on sr4g generate's train.jsonl.",
    description = "Frozen VAE and text encoder, trainable UNet (and text encoder with --train-text-encoder), AdamW;"
        + " checkpoints every --checkpoint-every steps into OUT/checkpoints (atomic, exact resume with --resume"
        + " latest), metrics in OUT/metrics.jsonl, and at the end OUT/model: the input folder with the UNet (and a"
        + " trained text encoder) replaced. Horizontal"
        + " flips are off by default; --random-flip swaps 'to the left of' / 'to the right of' in the caption of a"
        + " flipped image. With --lora-rank R only rank-R LoRA adapters are trained (base weights frozen) and OUT gets"
        + " pytorch_lora_weights.safetensors (diffusers' layout) instead of OUT/model."
        + " The flag names of diffusers' train_text_to_image.py are accepted too (--train_batch_size,"
        + " --learning_rate, --max_train_steps, …; table in docs/training.md). Details: docs/training.md.",
    footer = {
      "",
      "Examples:",
      "  sr4g train --model sd-v1-5 --data sr4g/train.jsonl \\",
      "      --images coco/train2017 --out run1 --resolution 512 \\",
      "      --batch-size 4 --grad-accum 4 --lr 1e-5 --max-steps 15000 \\",
      "      --device cuda",
      "  sr4g train … --device cuda --nproc-per-node 8",
      "      (8 GPUs: 8 processes, global batch 8 × --batch-size)",
      "A process started with torchrun's variables (RANK, WORLD_SIZE, …) is one",
      "worker of such a run."
    })
final class TrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = {"--model", "--pretrained_model_name_or_path"}, required = true, paramLabel = "MODEL",
      description = "diffusers folder or Hugging Face id org/name[@rev] (local cache)") String model;
  @Option(names = "--variant", paramLabel = "NAME", description = "weights variant of --model, e.g. fp16 (widened to"
      + " float32 on load; the trained UNet in OUT/model is float32, the other components are copied as they are)"
      + " (default: the plain files)") String variant;
  @ArgGroup(exclusive = true, multiplicity = "1") Source source;
  @Option(names = {"--out", "--output_dir"}, required = true, paramLabel = "DIR",
      description = "run folder: metrics.jsonl, checkpoints/, model/ (new, empty, or an earlier run's to resume)") Path out;
  @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV", description = "cpu, cuda or cuda:N (default: ${DEFAULT-VALUE})")
  String device;
  @Mixin TrainDataOptions dataOptions;
  @Mixin TrainOptimizationOptions optimization;
  @Mixin TrainPrecisionOptions precision;
  @Mixin TrainCheckpointOptions checkpoints;
  @Mixin LoraTrainOptions lora;
  @Option(names = "--halt-after-step", defaultValue = "0", hidden = true,
      description = "crash simulation: Runtime.halt after this step (default: ${DEFAULT-VALUE}, off)") long haltAfterStep;
  @Option(names = "--quiet", description = "no per-step progress lines (default: off)") boolean quiet;
  @Mixin DistributedMixin dist;
  @Mixin AttentionOption attention;

  /** Where the examples come from: a latent cache, or rows and their images (one or the other). */
  static final class Source {
    @Option(names = "--cache", paramLabel = "DIR", required = true,
        description = "latents and caption embeddings from sr4g cache, instead of --data/--images (no VAE/text encoder forward)")
    Path cache;
    @ArgGroup(exclusive = false) Rows rows;
  }

  /** {@code --data} and {@code --images}, both needed. */
  static final class Rows {
    @Option(names = "--data", paramLabel = "FILE", required = true, description = "train.jsonl of sr4g generate")
    Path data;
    @Option(names = "--images", paramLabel = "DIR", required = true, description = "folder of the rows' file_name images")
    Path images;
  }

  @Override
  public Integer call() {
    Optional<World> worker = DistributedMixin.worker();
    if (dist.launches(worker)) return dist.launch(spec, spec.commandLine().getOut()::println);
    worker.ifPresent(w -> WorkerLauncher.watchLauncher(System.getenv()));
    boolean speaks = worker.map(w -> w.rank() == 0).orElse(true); // one progress report: rank 0's
    attention.apply();
    TrainOptions o = new TrainOptions();
    o.model = ModelSources.folder(model, "--model");
    o.variant = variant;
    o.cache = source.cache;
    if (source.rows != null) {
      o.data = source.rows.data;
      o.images = source.rows.images;
    }
    o.out = out;
    o.device = worker.map(w -> DistributedMixin.workerDevice(device, w)).orElse(device);
    o.distributed = dist.options(worker);
    dataOptions.applyTo(o);
    optimization.applyTo(o);
    precision.applyTo(o);
    checkpoints.applyTo(o);
    lora.applyTo(o);
    PrintWriter w = spec.commandLine().getOut();
    Trainer.Listener progress = new Trainer.Listener() {
      @Override
      public void step(Trainer.StepMetrics m, long max) {
        if (quiet || !speaks) return;
        w.println(String.format(Locale.ROOT, "step %d/%d  loss %.5f  lr %.3g  grad-norm %.3g  %.0f ms  data-wait %.0f ms%s",
            m.step(), max, m.loss(), m.lr(), m.gradNorm(), m.stepMs(), m.dataWaitMs(), m.lossScale() > 0
                ? String.format(Locale.ROOT, "  loss-scale %.0f%s", m.lossScale(),
                    m.skipped() ? "  SKIPPED (inf/NaN gradient; " + m.skippedSteps() + " so far)" : "")
                : ""));
        w.flush();
      }

      @Override
      public void message(String line) {
        if (!speaks) return;
        w.println(line);
        w.flush();
      }
    };
    Trainer.Result r;
    try {
      r = Trainer.train(o, progress, haltAfter(haltAfterStep));
    } catch (DistributedFailure f) { // another rank failed or went missing: one line, exit 1
      spec.commandLine().getErr().println(spec.qualifiedName() + ": " + f.getMessage());
      spec.commandLine().getErr().flush();
      return 1;
    }
    if (!speaks) return 0;
    w.println(String.format(Locale.ROOT, "trained steps %d..%d; data wait %.0f ms in all; skipped %d unreadable or missing"
        + " image(s)%s", r.startStep() + 1, r.endStep(), r.dataWaitMs(), r.skips(),
        r.skippedFiles().isEmpty() ? "" : " (" + String.join(", ", r.skippedFiles().subList(0,
            Math.min(5, r.skippedFiles().size())).stream().map(Escape::text).toList()) + (r.skippedFiles().size() > 5 ? ", …" : "") + ")"));
    w.println((o.loraRank > 0 ? "LoRA: " : "model: ") + r.finalModel());
    w.flush();
    return 0;
  }

  /**
   * {@code --halt-after-step N}: stops the JVM with {@code Runtime.halt} after step N (and its checkpoint, if one is
   * due) — no cleanup, no shutdown hooks, like SIGKILL — to exercise crash recovery by hand. 0: off.
   */
  static TrainingHooks haltAfter(long step) {
    return step <= 0 ? TrainingHooks.NONE : new TrainingHooks() {
      @Override
      public void afterStep(long s) {
        if (s == step) Runtime.getRuntime().halt(137);
      }
    };
  }
}

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
      "Example:",
      "  sr4g train --model sd-v1-5 --data sr4g/train.jsonl --images coco/train2017 --out run1 \\",
      "      --resolution 512 --batch-size 4 --grad-accum 4 --lr 1e-5 --max-steps 15000 --device cuda",
      "  sr4g train … --device cuda --nproc-per-node 8     (8 GPUs: 8 processes, global batch 8 × --batch-size)",
      "A process started with torchrun's variables (RANK, WORLD_SIZE, …) is one worker of such a run."
    })
final class TrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = {"--model", "--pretrained_model_name_or_path"}, required = true, paramLabel = "MODEL",
      description = "diffusers folder or Hugging Face id org/name[@rev] (local cache)") String model;
  @Option(names = "--variant", paramLabel = "NAME", description = "weights variant of --model, e.g. fp16 (widened to"
      + " float32 on load; the trained UNet in OUT/model is float32, the other components are copied as they are)") String variant;
  @Option(names = "--data", paramLabel = "FILE", description = "train.jsonl of sr4g generate (unless --cache)") Path data;
  @Option(names = "--images", paramLabel = "DIR", description = "folder of the rows' file_name images (unless --cache)")
  Path images;
  @Option(names = "--cache", paramLabel = "DIR",
      description = "latents and caption embeddings from sr4g cache, instead of --data/--images (no VAE/text encoder forward)")
  Path cache;
  @Option(names = {"--out", "--output_dir"}, required = true, paramLabel = "DIR") Path out;
  @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV", description = "cpu, cuda or cuda:N (default: ${DEFAULT-VALUE})")
  String device;
  @Option(names = "--resolution", paramLabel = "PX",
      description = "square training size (default: the model's sample_size x VAE factor, 512 for SD 1.5; with --cache the cache's)")
  Integer resolution;
  @Option(names = "--random-crop", description = "random instead of centre crop") boolean randomCrop;
  @Option(names = {"--random-flip", "--random_flip"}, description = "mirror half the images, rewriting left/right in their captions")
  boolean randomFlip;
  @Option(names = "--caption-sampling", defaultValue = "per-pair", paramLabel = "per-pair|per-image",
      description = "default: ${DEFAULT-VALUE}") String captionSampling;
  @Option(names = {"--caption-dropout", "--proportion_empty_prompts"}, defaultValue = "0", paramLabel = "P",
      description = "replace each caption by the empty prompt with probability P, for classifier-free guidance"
          + " (diffusers' --proportion_empty_prompts); 0: off (default: ${DEFAULT-VALUE})") double captionDropout;
  @Option(names = {"--batch-size", "--train_batch_size"}, defaultValue = "1", paramLabel = "N", description = "default: ${DEFAULT-VALUE}") int batchSize;
  @Option(names = {"--grad-accum", "--gradient_accumulation_steps"}, defaultValue = "1", paramLabel = "N", description = "default: ${DEFAULT-VALUE}") int gradAccum;
  @Option(names = {"--max-steps", "--max_train_steps"}, defaultValue = "1000", paramLabel = "N", description = "optimizer steps (default: ${DEFAULT-VALUE})")
  long maxSteps;
  @Option(names = {"--lr", "--learning_rate"}, defaultValue = "1e-5", paramLabel = "LR", description = "default: ${DEFAULT-VALUE}") double lr;
  @Option(names = {"--adam-beta1", "--adam_beta1"}, defaultValue = "0.9", paramLabel = "B", description = "default: ${DEFAULT-VALUE}") double beta1;
  @Option(names = {"--adam-beta2", "--adam_beta2"}, defaultValue = "0.999", paramLabel = "B", description = "default: ${DEFAULT-VALUE}") double beta2;
  @Option(names = {"--weight-decay", "--adam_weight_decay"}, defaultValue = "0.01", paramLabel = "W", description = "default: ${DEFAULT-VALUE}") double weightDecay;
  @Option(names = {"--adam-eps", "--adam_epsilon"}, defaultValue = "1e-8", paramLabel = "E", description = "default: ${DEFAULT-VALUE}") double eps;
  @Option(names = {"--max-grad-norm", "--max_grad_norm"}, defaultValue = "1.0", paramLabel = "N", description = "0: no clipping (default: ${DEFAULT-VALUE})")
  double maxGradNorm;
  @Option(names = {"--lr-scheduler", "--lr_scheduler"}, defaultValue = "constant", paramLabel = "NAME",
      description = "constant, constant_with_warmup or cosine (default: ${DEFAULT-VALUE})") String lrScheduler;
  @Option(names = {"--lr-warmup-steps", "--lr_warmup_steps"}, defaultValue = "0", paramLabel = "N", description = "default: ${DEFAULT-VALUE}") int warmup;
  @Option(names = {"--prediction-type", "--prediction_type"}, paramLabel = "TYPE",
      description = "epsilon or v_prediction (default: the scheduler config's)") String predictionType;
  @Option(names = {"--snr-gamma", "--snr_gamma"}, defaultValue = "0", paramLabel = "G", description = "Min-SNR-γ weighting, 0: off (default: ${DEFAULT-VALUE})") double snrGamma;
  @Option(names = {"--noise-offset", "--noise_offset"}, defaultValue = "0", paramLabel = "X", description = "default: ${DEFAULT-VALUE}") double noiseOffset;
  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "default: ${DEFAULT-VALUE}") long seed;
  @Option(names = {"--checkpoint-every", "--checkpointing_steps"}, defaultValue = "500", paramLabel = "N", description = "0: only at the end (default: ${DEFAULT-VALUE})")
  int checkpointEvery;
  @Option(names = {"--checkpoints-limit", "--checkpoints_total_limit"}, defaultValue = "0", paramLabel = "N", description = "keep the newest N, 0: all (default: ${DEFAULT-VALUE})")
  int checkpointsLimit;
  @Option(names = {"--resume", "--resume_from_checkpoint"}, paramLabel = "latest|DIR", description = "continue from OUT's newest checkpoint or DIR")
  String resume;
  @Option(names = {"--ema", "--use_ema"}, description = "keep an EMA of the UNet weights; OUT/model gets the EMA weights") boolean ema;
  @Option(names = "--ema-decay", defaultValue = "0.9999", paramLabel = "D", description = "default: ${DEFAULT-VALUE}")
  double emaDecay;
  @Option(names = "--train-text-encoder",
      description = "train the CLIP text encoder too (not with --cache); OUT/model gets the trained encoder") boolean trainTextEncoder;
  @Option(names = "--text-encoder-lr", paramLabel = "LR", description = "the text encoder's base learning rate (default: --lr)")
  Double textEncoderLr;
  @Option(names = {"--gradient-checkpointing", "--gradient_checkpointing"},
      description = "recompute the UNet's blocks in the backward instead of keeping their activations: less memory,"
          + " at most one more forward of the blocks per step") boolean gradientCheckpointing;
  @Option(names = "--validation-prompts", paramLabel = "FILE|TEXT",
      description = "prompts file (one per line, or JSONL with prompt/text/caption) or one prompt, sampled into"
          + " OUT/validation/step-N.png") String validationPrompts;
  @Option(names = "--validation-every", defaultValue = "0", paramLabel = "K",
      description = "sample the validation prompts every K steps and after the last; 0: only after the last (default: ${DEFAULT-VALUE})")
  int validationEvery;
  @Option(names = "--validation-steps", defaultValue = "8", paramLabel = "N",
      description = "sampler steps per validation image (default: ${DEFAULT-VALUE})") int validationSteps;
  @Option(names = "--validation-clip-skip", defaultValue = "1", paramLabel = "N",
      description = "1: last text-encoder layer (SD 1.x), 2: penultimate (SD 2.x) (default: ${DEFAULT-VALUE})") int validationClipSkip;
  @Option(names = {"--mixed-precision", "--mixed_precision"}, defaultValue = "no", paramLabel = "no|bf16|fp16",
      description = "autocast the UNet forward and loss (float32 weights); bf16: CPU or CUDA; fp16: CUDA, with dynamic"
          + " loss scaling (default: ${DEFAULT-VALUE})") String mixedPrecision;
  @Option(names = "--max-image-pixels", defaultValue = "89478485", paramLabel = "N",
      description = "refuse images of more pixels, read from their header before decoding (decompression bombs;"
          + " Pillow's limit; default: ${DEFAULT-VALUE})") long maxImagePixels;
  @Option(names = {"--workers", "--dataloader_num_workers"}, defaultValue = "2", paramLabel = "N", description = "image decoding threads (default: ${DEFAULT-VALUE})") int workers;
  @Option(names = "--prefetch", defaultValue = "8", paramLabel = "N", description = "examples decoded ahead (default: ${DEFAULT-VALUE})") int prefetch;
  @Option(names = "--halt-after-step", defaultValue = "0", hidden = true,
      description = "test hook: Runtime.halt after this step (crash simulation)") long haltAfterStep;
  @Option(names = "--quiet", description = "no per-step progress lines") boolean quiet;
  @Mixin LoraTrainOptions lora;
  @Mixin DistributedMixin dist;
  @Mixin AttentionOption attention;

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
    o.data = data;
    o.images = images;
    o.cache = cache;
    o.out = out;
    o.device = worker.map(w -> DistributedMixin.workerDevice(device, w)).orElse(device);
    o.distributed = dist.options(worker);
    o.resolution = resolution == null ? 0 : resolution;
    o.randomCrop = randomCrop;
    o.randomFlip = randomFlip;
    o.captionSampling = captionSampling;
    o.captionDropout = captionDropout;
    o.batchSize = batchSize;
    o.gradAccum = gradAccum;
    o.maxSteps = maxSteps;
    o.lr = lr;
    o.adamBeta1 = beta1;
    o.adamBeta2 = beta2;
    o.weightDecay = weightDecay;
    o.adamEps = eps;
    o.maxGradNorm = maxGradNorm;
    o.lrScheduler = lrScheduler;
    o.lrWarmupSteps = warmup;
    o.predictionType = predictionType;
    o.snrGamma = snrGamma;
    o.noiseOffset = noiseOffset;
    o.seed = seed;
    o.checkpointEvery = checkpointEvery;
    o.checkpointsLimit = checkpointsLimit;
    o.resume = resume;
    o.ema = ema;
    o.emaDecay = emaDecay;
    o.trainTextEncoder = trainTextEncoder;
    o.textEncoderLr = textEncoderLr;
    o.gradientCheckpointing = gradientCheckpointing;
    o.validationPrompts = validationPrompts;
    o.validationEvery = validationEvery;
    o.validationSteps = validationSteps;
    o.validationClipSkip = validationClipSkip;
    o.mixedPrecision = mixedPrecision;
    o.workers = workers;
    o.prefetch = prefetch;
    o.maxImagePixels = maxImagePixels;
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

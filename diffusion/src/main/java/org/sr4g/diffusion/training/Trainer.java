package org.sr4g.diffusion.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.lora.LoraWriter;
import org.sr4g.diffusion.lora.TrainableLora;
import org.sr4g.diffusion.training.distributed.DistributedTraining;
import org.sr4g.io.OutputRules;
import org.sr4g.io.Staging;
import org.sr4g.torch.AdamW;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.GradScaler;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;
import org.sr4g.io.AtomicFiles;

/**
 * Fine-tunes the UNet of a diffusers folder on SR4G rows, as diffusers' train_text_to_image.py: frozen VAE and text
 * encoder; per example a VAE posterior sample × scaling_factor, Gaussian noise (plus {@code noise_offset} × per-channel
 * noise), a uniform timestep, {@code add_noise}, and the MSE between the UNet output and the noise (epsilon) or the
 * velocity (v_prediction), optionally Min-SNR-γ weighted; AdamW with gradient accumulation, global-norm clipping and a
 * learning-rate schedule. With {@code trainTextEncoder} the CLIP text encoder is trained too, as diffusers'
 * train_dreambooth.py {@code --train_text_encoder}: the caption embedding is computed with gradients inside the step,
 * the encoder's parameters get their own AdamW (same hyper-parameters, {@code textEncoderLr} on the same schedule:
 * equal to one optimizer with two parameter groups), clipping is over the UNet's and the encoder's gradients together,
 * and the EMA covers the UNet only (as diffusers' train_text_to_image.py uses {@code EMAModel}).
 *
 * <p>Determinism: every random number of optimizer step {@code s} (micro-batch {@code m}) comes from generators
 * seeded with {@code mix(seed, s, m)} — a libtorch CPU {@link Generator} for the noise, a {@link SplittableRandom} for
 * timesteps — and the data stream is a function of the seed and its cursor ({@link DataLoader}). The random state
 * at any step is therefore (seed, step), and a checkpoint needs no generator state to resume exactly. Caption dropout
 * ({@code captionDropout}) draws from its own {@link SplittableRandom} seeded likewise ({@link #dropped}), so it
 * changes no other random number.
 */
public final class Trainer {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One optimizer step. {@code lossScale} is the GradScaler's scale used for this step (0 without fp16);
   * {@code skipped}: the step found an inf/NaN gradient and did not update (fp16 only; {@code gradNorm} is then NaN);
   * {@code skippedSteps}: skipped steps of the run so far, this one included (resumes carry it on).
   */
  public record StepMetrics(long step, double loss, double lr, double gradNorm, double stepMs, double dataWaitMs,
      double lossScale, boolean skipped, long skippedSteps) {
    public StepMetrics(long step, double loss, double lr, double gradNorm, double stepMs, double dataWaitMs) {
      this(step, loss, lr, gradNorm, stepMs, dataWaitMs, 0, false, 0);
    }
  }

  public interface Listener {
    void step(StepMetrics m, long maxSteps);

    default void message(String line) {}
  }

  /** {@code metrics}: the steps this call ran (a resumed run starts after its checkpoint). */
  public record Result(long startStep, long endStep, List<StepMetrics> metrics, long skips, List<String> skippedFiles,
      Path finalModel, double dataWaitMs) {}

  private Trainer() {}

  public static Result train(TrainOptions o, Listener listener) {
    return train(o, listener, TrainingHooks.NONE);
  }

  /** A run with {@code hooks} (tests, the crash simulation of {@code --halt-after-step}): see {@link TrainingHooks}. */
  public static Result train(TrainOptions o, Listener listener, TrainingHooks hooks) {
    validate(o);
    Device dev = Device.forUser(o.device);
    // Data-parallel training (o.distributed): one process by default, where every distributed hook is the identity.
    try (DistributedTraining dist = DistributedTraining.open(o.distributed, dev)) {
      try (TrainingRun run = TrainingRun.prepare(o, listener, hooks, dev, dist)) {
        return train(run, listener, hooks);
      } catch (RuntimeException e) {
        throw dist.explain(e); // a failed or timed-out collective: which rank is missing
      }
    }
  }

  /** The steps of a prepared run, the step hooks after each, then OUT/model. */
  private static Result train(TrainingRun run, Listener listener, TrainingHooks hooks) {
    TrainOptions o = run.o;
    DistributedTraining dist = run.dist;
    dist.attach(run.trainable.all()); // rank 0's weights everywhere, DDP's Reducer on the trained parameters
    boolean fresh = dist.writes() && !Files.exists(o.out);
    Path metricsFile = o.out.resolve("metrics.jsonl");
    if (dist.writes()) { // only rank 0 writes (docs/training.md, Distributed training)
      OutputRules.createResumable(o.out, "train");
      MetricsLog.truncate(metricsFile, run.step);
    }
    if (run.step >= o.maxSteps) listener.message("already at step " + run.step + " of " + o.maxSteps);
    long startStep = run.step;
    List<StepMetrics> ran = new ArrayList<>();
    LatentSource source = run.openSource();
    try (source; MetricsLog metrics = new MetricsLog(metricsFile, dist.writes(), listener, o.maxSteps)) {
      List<StepHook> after = List.of(metrics, new CheckpointCadence(run, source), new ValidationSampling(run, listener),
          m -> hooks.afterStep(m.step()));
      while (run.step < o.maxSteps) {
        StepMetrics sm = TrainingStep.run(run, source, hooks);
        ran.add(sm);
        for (StepHook h : after) h.afterStep(sm);
      }
      for (StepHook h : after) h.afterLastStep(run.step);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      // A new run that stops before its first step leaves no folder behind (only its marker was written).
      if (fresh && ran.isEmpty()) deleteQuietly(o.out);
      throw e;
    }
    // With --ema the published UNet is the average (what diffusers' script saves), the raw weights stay in the
    // checkpoint. The text encoder (with --train-text-encoder) is published as trained: the EMA covers the UNet only.
    // A LoRA run publishes its adapters (EMA averages with --ema) as diffusers' LoRA scripts do: a file that `sr4g
    // sample --lora` and `pipe.load_lora_weights` read; the base model stays where it is.
    TrainableLora lora = run.trainable.lora();
    Path published = o.out.resolve(lora != null ? LoraWriter.FILE_NAME : "model");
    if (dist.writes() && lora != null) {
      lora.write(published, run.ema != null ? run.ema.named() : java.util.Map.of());
    } else if (dist.writes()) {
      Params te = run.trainable.textEncoder();
      writeModel(run.model.folder().root(), run.ema != null ? run.ema.named() : run.trainable.unet().named(),
          te != null ? te.named() : null, o.out);
    }
    dist.barrier("final model");
    return new Result(startStep, run.step, ran, source.skips(), source.skippedFiles(), published,
        source.waitNanos() / 1e6);
  }

  /**
   * Which captions of micro-batch {@code micro} of step {@code step} are replaced by the empty prompt: index {@code i}
   * when the {@code i}-th draw of a generator seeded with {@code mix(seed, step, 2_000_003 + micro)} is below
   * {@code p}. A function of (seed, step, micro-batch, index) only, so runs and resumes reproduce it; no draw when
   * {@code p} is 0.
   */
  static boolean[] dropped(long seed, long step, int micro, int batch, double p) {
    boolean[] d = new boolean[batch];
    if (p <= 0) return d;
    SplittableRandom r = new SplittableRandom(DataLoader.mix(seed, step, 2_000_003L + micro));
    for (int i = 0; i < batch; i++) d[i] = r.nextDouble() < p;
    return d;
  }

  private static void validate(TrainOptions o) {
    if (o.model == null || o.out == null || (o.cache == null && (o.data == null || o.images == null)))
      throw new UserInputException("--model, --out and either --cache or both --data and --images are required");
    if (o.resolution != 0 && o.resolution < 8) throw new UserInputException("--resolution must be at least 8");
    if (o.batchSize < 1) throw new UserInputException("--batch-size must be at least 1");
    if (o.gradAccum < 1) throw new UserInputException("--grad-accum must be at least 1");
    if (o.maxSteps < 1) throw new UserInputException("--max-steps must be at least 1");
    if (!(o.lr > 0)) throw new UserInputException("--lr must be positive");
    if (o.checkpointEvery < 0 || o.checkpointsLimit < 0) throw new UserInputException("checkpoint counts must be >= 0");
    if (o.snrGamma < 0 || o.noiseOffset < 0) throw new UserInputException("--snr-gamma and --noise-offset must be >= 0");
    if (o.ema && !(o.emaDecay > 0 && o.emaDecay < 1)) throw new UserInputException("--ema-decay must be in (0, 1)");
    if (o.validationEvery < 0) throw new UserInputException("--validation-every must be >= 0");
    if (o.validationSteps < 1) throw new UserInputException("--validation-steps must be at least 1");
    if (o.trainTextEncoder && o.cache != null)
      throw new UserInputException("--cache holds precomputed caption embeddings: it cannot be used with"
          + " --train-text-encoder (the text encoder must run in every step); train from --data/--images");
    if (o.textEncoderLr != null && !o.trainTextEncoder)
      throw new UserInputException("--text-encoder-lr needs --train-text-encoder");
    if (o.textEncoderLr != null && !(o.textEncoderLr > 0)) throw new UserInputException("--text-encoder-lr must be positive");
    if (!(o.captionDropout >= 0 && o.captionDropout <= 1))
      throw new UserInputException("--caption-dropout must be in [0, 1], got " + o.captionDropout);
    if (o.workers < 1 || o.prefetch < 1) throw new UserInputException("--workers and --prefetch must be at least 1");
    if (o.maxImagePixels < 1) throw new UserInputException("--max-image-pixels must be at least 1");
    if (o.loraRank < 0) throw new UserInputException("--lora-rank must be at least 1 (0: no LoRA), got " + o.loraRank);
    if (o.loraRank == 0 && (o.loraAlpha != null || !o.loraTargets.equals(TrainableLora.Config.UNET_DEFAULT)))
      throw new UserInputException("--lora-alpha and --lora-targets need --lora-rank");
    if (o.loraRank > 0 && o.loraTargets.isEmpty()) throw new UserInputException("--lora-targets lists no module");
  }

  /** The LoRA settings of {@code o}: the text encoder's q/k/v/out projections get adapters with --train-text-encoder. */
  static TrainableLora.Config loraConfig(TrainOptions o) {
    return new TrainableLora.Config(o.loraRank, o.loraAlpha != null ? o.loraAlpha : Double.NaN, o.loraTargets,
        o.trainTextEncoder ? TrainableLora.Config.TEXT_DEFAULT : List.of());
  }

  /**
   * What the data stream and the step arithmetic depend on: a checkpoint refuses to continue under different values.
   * (Compared as JSON text: a value read back may be an int node where the live one is a long node.)
   */
  static ObjectNode fixedOptions(TrainOptions o, int rows) {
    return fixedOptions(o, rows, o.resolution);
  }

  /** {@link #fixedOptions(TrainOptions, int)} with the run's resolved resolution {@code res}. */
  static ObjectNode fixedOptions(TrainOptions o, int rows, int res) {
    ObjectNode n = JSON.createObjectNode();
    // batch_size: the global batch (ranks × --batch-size, = --batch-size for one process), so a checkpoint resumes
    // with another number of ranks exactly when the global batch is the same.
    n.put("seed", o.seed).put("resolution", res).put("batch_size", o.batchSize * o.distributed.world().size())
        .put("grad_accum", o.gradAccum).put("caption_sampling", o.captionSampling.toString()).put("random_crop", o.randomCrop)
        .put("random_flip", o.randomFlip).put("data_rows", rows).put("ema", o.ema)
        .put("ema_decay", o.ema ? o.emaDecay : 0);
    // Only when on, so that checkpoints written before the option existed still resume without it.
    if (o.mixedPrecision != MixedPrecision.NO) n.put("mixed_precision", o.mixedPrecision.toString());
    if (o.captionDropout > 0) n.put("caption_dropout", o.captionDropout);
    // The frozen VAE and text encoder are read from the input folder again on resume: the same files, please.
    if (o.variant != null) n.put("variant", o.variant);
    // A LoRA run: what the adapters are (another rank or set of layers cannot continue them).
    if (o.loraRank > 0) n.put("lora_rank", o.loraRank).put("lora_alpha", loraConfig(o).alphaOrRank())
        .put("lora_targets", String.join(",", o.loraTargets));
    return n;
  }

  /**
   * Options recorded in a checkpoint's state.json for the record only: they change how a step is computed, not its
   * result (beyond float rounding), so a resume may switch them (e.g. turn gradient checkpointing on to fit memory).
   */
  static ObjectNode settings(TrainOptions o) {
    return JSON.createObjectNode().put("gradient_checkpointing", o.gradientCheckpointing).put("device", o.device);
  }

  private static void deleteQuietly(Path dir) {
    try {
      Staging.deleteTree(dir);
    } catch (IOException ignored) {
      // best effort
    }
  }

  /**
   * OUT/model: the input folder with the UNet replaced (and the text encoder, when {@code textEncoder} is not null:
   * {@code text_encoder/config.json} copied, {@code model.safetensors} written; every other component copied as it
   * is), written to a temporary folder and renamed, so a complete model or none is there.
   */
  static Path writeModel(Path source, java.util.Map<String, Tensor> unet, java.util.Map<String, Tensor> textEncoder,
      Path out) {
    try {
      Path tmp = out.resolve(".model.tmp");
      Staging.deleteTree(tmp);
      try (Stream<Path> s = Files.walk(source)) {
        for (Path p : s.toList()) {
          Path rel = source.relativize(p);
          if (rel.toString().equals("unet") || rel.startsWith("unet")) continue;
          if (textEncoder != null && rel.startsWith("text_encoder")) continue;
          Path dst = tmp.resolve(rel.toString());
          if (Files.isDirectory(p)) Files.createDirectories(dst);
          else Files.copy(p, dst);
        }
      }
      Files.createDirectories(tmp.resolve("unet"));
      Files.copy(source.resolve("unet/config.json"), tmp.resolve("unet/config.json"));
      Checkpoints.writeParams(unet, tmp.resolve("unet/diffusion_pytorch_model.safetensors"));
      if (textEncoder != null) {
        Files.createDirectories(tmp.resolve("text_encoder"));
        Files.copy(source.resolve("text_encoder/config.json"), tmp.resolve("text_encoder/config.json"));
        Checkpoints.writeParams(textEncoder, tmp.resolve("text_encoder/model.safetensors"));
      }
      Path fin = out.resolve("model");
      Staging.deleteTree(fin);
      AtomicFiles.move(tmp, fin);
      return fin;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the trained model to " + out + ": " + e.getMessage(), e);
    }
  }
}

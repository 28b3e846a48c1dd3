package org.sr4g.diffusion.training;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.FolderSource;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.Precision;
import org.sr4g.diffusion.Txt2Img;
import org.sr4g.diffusion.lora.LoraTargets;
import org.sr4g.diffusion.lora.TrainableLora;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.schedulers.Scheduler;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;
import org.sr4g.diffusion.training.distributed.DistributedTraining;
import org.sr4g.io.OutputRules;
import org.sr4g.torch.AdamW;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.GradScaler;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * Everything a run prepares once before its first step: the data (rows or a latent cache), the model with its frozen
 * parts in the mixed-precision dtype, what is trained ({@link TrainableParameters}), the objective
 * ({@link DiffusionLoss}), the optimizers, the loss scaler, the EMA and the state a resume restores. Every user
 * mistake that can be found before training is found here, before {@code --out} is created. Owns the model, the
 * optimizers and the EMA (closed with the run); {@link #openSource} hands the data over to a {@link LatentSource}.
 */
final class TrainingRun implements AutoCloseable {
  final TrainOptions o;
  final Device dev;
  final DistributedTraining dist;
  final MixedPrecision mp;
  /** The square training size (the option, or the model's or the cache's default). */
  final int res;
  /** What a checkpoint refuses to continue under different values ({@link Trainer#fixedOptions}). */
  final ObjectNode fixed;
  final DiffusersModel model;
  final UNet2DConditionModel unet;
  final Txt2Img pipe;
  final List<String> validationPrompts;
  final TrainableParameters trainable;
  final DiffusionLoss loss;
  final LrSchedule lrs;
  final double textEncoderLr;
  /** The fp16 loss scaler, null without one. */
  final GradScaler scaler;
  private final Data data;
  private final DType frozen;
  private final float[] emptyEmbedding;
  /** The adapters of a LoRA run (owned here), or null. */
  private final TrainableLora lora;
  AdamW opt, teOpt;
  Ema ema;
  Checkpoints.TextEncoder teState;
  /** The last completed step (the checkpoint's after a resume), and the fp16 steps skipped so far. */
  long step, skippedSteps;
  private long startPosition;

  /** The rows of {@code --data} as examples, or the cache; {@code rows}: what the fixed options record. */
  private record Data(LatentCache cache, List<List<TrainRow>> examples, int rows, int resolution) {}

  private TrainingRun(TrainOptions o, Trainer.Listener listener, TrainingHooks hooks, Device dev,
      DistributedTraining dist, MixedPrecision mp, Data data, DiffusersModel model, DType frozen, TrainableLora lora) {
    this.o = o;
    this.dev = dev;
    this.dist = dist;
    this.mp = mp;
    this.data = data;
    this.res = data.resolution();
    this.model = model;
    this.frozen = frozen;
    this.lora = lora;
    this.fixed = Trainer.fixedOptions(o, data.rows(), res);
    if (data.cache() != null) fixed.put("cache", true);
    if (o.trainTextEncoder) fixed.put("train_text_encoder", true);
    PredictionType prediction = o.predictionType != null ? o.predictionType
        : PredictionType.parse(model.schedulerConfig().predictionType());
    this.pipe = new Txt2Img(model, dev);
    int multiple = pipe.sizeMultiple();
    this.validationPrompts = o.validationPrompts == null ? List.of() : Validation.prompts(o.validationPrompts);
    if (res % multiple != 0)
      throw new UserInputException("--resolution " + res + " must be a multiple of " + multiple + " for this model");
    this.trainable = lora != null ? TrainableParameters.lora(model, lora) : TrainableParameters.of(model, o.trainTextEncoder);
    if (lora != null)
      listener.message("LoRA: rank " + o.loraRank + ", alpha " + lora.config().alphaOrRank() + ", "
          + lora.params(Part.UNET).list().size() / 2 + " UNet layer(s)" + (lora.trainsTextEncoder() ? " and "
          + lora.params(Part.TEXT_ENCODER).list().size() / 2 + " text-encoder layer(s)" : "") + ", " + lora.numel()
          + " trainable values; base weights frozen (UNet " + Precision.name(model.unet().dtype()) + ")");
    // conv weights packed once (CPU); a fallback is said, with its reason
    var packing = model.vae().packForInference();
    if (!packing.isComplete() && !dev.isCuda()) listener.message("frozen VAE: " + packing);
    this.unet = model.unet();
    this.textEncoderLr = o.textEncoderLr != null ? o.textEncoderLr : o.lr;
    if (data.cache() != null) checkCacheFits(data.cache());
    // Caption dropout from the cache: the empty prompt's embedding, encoded once by the (float32) text encoder.
    this.emptyEmbedding = data.cache() != null && o.captionDropout > 0 ? emptyPromptEmbedding() : null;
    if (emptyEmbedding != null
        && emptyEmbedding.length != data.cache().embeddingShape()[0] * data.cache().embeddingShape()[1])
      throw new UserInputException("--cache " + o.cache + ": its text embeddings are " + java.util.Arrays.toString(
          data.cache().embeddingShape()) + ", --model " + o.model + "'s text encoder gives " + emptyEmbedding.length
          + " values per prompt: rebuild the cache with this model");
    unet.setGradientCheckpointing(o.gradientCheckpointing);
    if (o.gradientCheckpointing) listener.message("gradient checkpointing: on (the UNet's blocks are recomputed in the backward)");
    this.loss = new DiffusionLoss(Scheduler.create(model.schedulerConfig()).schedule(), prediction, o.snrGamma,
        o.noiseOffset);
    this.lrs = new LrSchedule(o.lrScheduler, o.lrWarmupSteps, o.maxSteps);
    this.scaler = hooks.scaler(mp, mp.newScaler());
  }

  /**
   * Reads the data, checks {@code --out}, loads the model and prepares everything; resumes from {@code --resume}'s
   * checkpoint. On a user mistake nothing is left open and nothing is written.
   */
  static TrainingRun prepare(TrainOptions o, Trainer.Listener listener, TrainingHooks hooks, Device dev,
      DistributedTraining dist) {
    MixedPrecision mp = o.mixedPrecision.on(dev);
    Data data = readData(o);
    try {
      // Created (with its marker) only when the first step is about to run: a refused run leaves nothing behind.
      OutputRules.checkFolder(o.out, false, true, List.of());
      refuseOldCheckpoints(o);
      // Mixed precision: the frozen VAE (and the text encoder unless trained) in the lower precision, as diffusers'
      // vae.to(weight_dtype) / text_encoder.to(weight_dtype); the trained UNet (and a trained encoder) stay float32.
      DType chosen = mp.frozenDtype(dev), frozen = hooks.frozenDtype(chosen);
      if (mp != MixedPrecision.NO && chosen == DType.F32)
        listener.message("mixed precision: the VAE and text encoder stay float32 (" + Precision.name(mp.dtype())
            + " does not run them on " + o.device + ": " + Precision.cpuBf16Problem().orElse("?") + ")");
      // With --cache the text encoder only encodes the empty prompt (caption dropout) and validation prompts: float32,
      // as `sr4g cache` encoded every cached caption, so the dropped and kept captions come from the same encoder.
      DType teDtype = o.trainTextEncoder || data.cache() != null ? DType.F32 : frozen;
      // LoRA (--lora-rank): the adapters are trained and every base weight is frozen, so the base UNet and text encoder
      // are held in the mixed-precision dtype too (diffusers' LoRA scripts: unet.to(weight_dtype)); adapters float32.
      ModelFolder folder = ModelFolder.open(o.model, o.variant);
      TrainableLora lora = o.loraRank > 0 ? TrainableLora.create(LoraTargets.of(folder.unetConfig(),
          folder.textEncoderConfig()), Trainer.loraConfig(o), DataLoader.mix(o.seed, 0, 3_000_017L), dev) : null;
      DType unetDtype = lora != null ? frozen : DType.F32;
      if (lora != null && data.cache() == null) teDtype = frozen;
      DiffusersModel m;
      try (FolderSource source = FolderSource.open(folder)) {
        m = DiffusersModel.load(source, dev, teDtype, unetDtype, frozen, lora != null ? lora.adapters() : Map.of());
      } catch (RuntimeException e) {
        if (lora != null) lora.close();
        throw e;
      }
      TrainingRun run = null;
      try {
        hooks.loaded(m);
        if (frozen != DType.F32)
          listener.message("mixed precision: the frozen VAE" + (teDtype == DType.F32 ? "" : " and text encoder") + " in "
              + Precision.name(frozen) + ", the UNet" + (teDtype == DType.F32 ? " and the text encoder" : "")
              + " float32");
        run = new TrainingRun(o, listener, hooks, dev, dist, mp, data, m, frozen, lora);
        run.createOptimizers();
        run.resume(listener);
        return run;
      } catch (RuntimeException e) {
        if (run != null) run.close();
        else {
          m.close();
          if (lora != null) lora.close();
        }
        throw e;
      }
    } catch (RuntimeException e) {
      if (data.cache() != null) data.cache().close();
      throw e;
    }
  }

  private static Data readData(TrainOptions o) {
    if (o.cache != null) {
      if (o.randomCrop || o.randomFlip || o.captionSampling != TrainData.CaptionSampling.PER_PAIR)
        throw new UserInputException("--cache holds centre crops, unflipped, one sample per row: it cannot be used with"
            + " --random-crop, --random-flip or --caption-sampling per-image");
      LatentCache cache = LatentCache.open(o.cache);
      int res = o.resolution == 0 ? cache.resolution() : o.resolution;
      if (cache.resolution() != res) {
        cache.close();
        throw new UserInputException("--resolution " + res + " differs from the cache's " + cache.resolution());
      }
      if (cache.samples().isEmpty()) {
        cache.close();
        throw new UserInputException("--cache " + o.cache + ": no samples");
      }
      return new Data(cache, List.of(), cache.samples().size(), res);
    }
    int res = o.resolution == 0 ? ModelFolder.open(o.model, o.variant).defaultResolution() : o.resolution;
    List<TrainRow> rows = TrainData.read(o.data);
    List<List<TrainRow>> examples = TrainData.examples(rows, o.captionSampling);
    if (!Files.isDirectory(o.images)) throw new UserInputException("--images " + o.images + ": not a folder");
    return new Data(null, examples, rows.size(), res);
  }

  /** A fresh run over an old one would mix their checkpoints (a later --resume latest could pick the old run's). */
  private static void refuseOldCheckpoints(TrainOptions o) {
    try {
      if (o.resume == null && !Checkpoints.list(o.out).isEmpty())
        throw new UserInputException("--out " + o.out + " already holds checkpoints: continue with --resume latest,"
            + " or use another --out");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A cache built from another model (SD 2 cache, SD 1.5 model) would feed the UNet wrong-sized tensors. */
  private void checkCacheFits(LatentCache cache) {
    long[] ls = cache.latentShape(), es = cache.embeddingShape();
    var uc = unet.config();
    if (ls[0] != uc.inChannels() || es[1] != uc.crossAttentionDim())
      throw new UserInputException("--cache " + o.cache + " was built from " + cache.modelPath() + " (latents of "
          + ls[0] + " channels, text embeddings of width " + es[1] + "); --model " + o.model + " needs "
          + uc.inChannels() + " and " + uc.crossAttentionDim() + ": rebuild the cache with sr4g cache --model "
          + o.model);
  }

  private void createOptimizers() {
    opt = new AdamW(trainable.unet().list(), o.lr, o.adamBeta1, o.adamBeta2, o.adamEps, o.weightDecay);
    ema = o.ema ? new Ema(trainable.unet().named(), o.emaDecay) : null;
    Params te = trainable.textEncoder();
    if (te != null) {
      teOpt = new AdamW(te.list(), textEncoderLr, o.adamBeta1, o.adamBeta2, o.adamEps, o.weightDecay);
      teState = new Checkpoints.TextEncoder(model.folder().root().resolve("text_encoder/config.json"), te, teOpt);
    }
  }

  /** {@code --resume}: the checkpoint's weights, optimizer, EMA, scaler and counters, if its fixed options agree. */
  private void resume(Trainer.Listener listener) {
    if (o.resume == null) return;
    Path ckpt = Checkpoints.resolve(o.out, o.resume);
    if (ckpt == null) {
      listener.message("no checkpoint in " + Checkpoints.dir(o.out) + ": starting a new run");
      return;
    }
    Checkpoints.State s = Checkpoints.load(ckpt, trainable.unet(), lora, opt, ema, teState, scaler);
    dist.checkResume(ckpt, s, o.batchSize);
    if (!s.fixedOptions().toString().equals(fixed.toString()))
      throw new UserInputException("--resume " + ckpt + ": options differ from the checkpoint's (it has "
          + s.fixedOptions() + ", this run " + fixed + "); an exact resume needs the same ones");
    step = s.step();
    startPosition = dist.resumePosition(s);
    skippedSteps = s.skippedSteps();
    listener.message("resumed from " + ckpt + " at step " + step);
  }

  /** The data stream from the resumed position; the source owns the loader's threads or the cache from here on. */
  LatentSource openSource() {
    if (data.cache() != null)
      return new CachedLatentSource(data.cache(), o.seed, startPosition, emptyEmbedding, model.vae().scalingFactor(),
          dev, dist);
    DataLoader loader = new DataLoader(data.examples(), o.images, res, o.randomCrop, o.randomFlip, o.seed, o.workers,
        o.prefetch, startPosition, dist::globalPosition).maxImagePixels(o.maxImagePixels);
    return new VaeLatentSource(loader, startPosition, model, dev, frozen, o.trainTextEncoder, mp, dist, res);
  }

  /** CLIP {@code last_hidden_state} (clip skip 1, as the cache stores) of the empty prompt, as a host array. */
  @SuppressWarnings("try")
  private float[] emptyPromptEmbedding() {
    try (TensorScope s = TensorScope.open(); ModeGuard ng = Autograd.noGrad()) {
      Tensor ids = Tensor.of(model.tokenizer().tokenize(""), 1, ClipTokenizer.CONTEXT_LENGTH).to(dev);
      return model.textEncoder().encode(ids, 1).to(DType.F32, Device.CPU).contiguous().toFloatArray();
    }
  }

  /** Closes the model, the optimizers, the EMA and a cache no source took over (closing a cache twice is harmless). */
  @Override
  public void close() {
    try (TrainableLora l = lora; DiffusersModel m = model; LatentCache c = data.cache(); AdamW a = opt; Ema e = ema;
        AdamW t = teOpt) {
      // closed in reverse order
    }
  }
}

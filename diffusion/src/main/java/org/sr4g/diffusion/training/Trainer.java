package org.sr4g.diffusion.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.FolderSource;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.Precision;
import org.sr4g.diffusion.Txt2Img;
import org.sr4g.diffusion.lora.LoraTargets;
import org.sr4g.diffusion.lora.LoraWriter;
import org.sr4g.diffusion.lora.TrainableLora;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.schedulers.NoiseSchedule;
import org.sr4g.diffusion.schedulers.Scheduler;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;
import org.sr4g.diffusion.training.distributed.DistributedTraining;
import org.sr4g.io.OutputRules;
import org.sr4g.io.Staging;
import org.sr4g.torch.AdamW;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.GradScaler;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

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
    validate(o);
    Device dev = Device.forUser(o.device);
    // Data-parallel training (o.distributed): one process by default, where every hook below is the identity.
    try (DistributedTraining dist = DistributedTraining.open(o.distributed, dev)) {
      try {
        return train(o, listener, dev, dist);
      } catch (RuntimeException e) {
        throw dist.explain(e); // a failed or timed-out collective: which rank is missing
      }
    }
  }

  private static Result train(TrainOptions o, Listener listener, Device dev, DistributedTraining dist) {
    MixedPrecision mp = MixedPrecision.parse(o.mixedPrecision, dev);
    LatentCache cache = null;
    List<List<TrainRow>> examples = List.of();
    int dataRows;
    if (o.cache != null) {
      if (o.randomCrop || o.randomFlip || !o.captionSampling.equals("per-pair"))
        throw new UserInputException("--cache holds centre crops, unflipped, one sample per row: it cannot be used with"
            + " --random-crop, --random-flip or --caption-sampling per-image");
      cache = LatentCache.open(o.cache);
      if (o.resolution == 0) o.resolution = cache.resolution();
      if (cache.resolution() != o.resolution)
        throw new UserInputException("--resolution " + o.resolution + " differs from the cache's " + cache.resolution());
      if (cache.samples().isEmpty()) throw new UserInputException("--cache " + o.cache + ": no samples");
      dataRows = cache.samples().size();
    } else {
      if (o.resolution == 0) o.resolution = ModelFolder.open(o.model, o.variant).defaultResolution();
      List<TrainRow> rows = TrainData.read(o.data);
      examples = TrainData.examples(rows, TrainData.CaptionSampling.parse(o.captionSampling));
      if (!Files.isDirectory(o.images)) throw new UserInputException("--images " + o.images + ": not a folder");
      dataRows = rows.size();
    }
    // Created (with its marker) only when the first step is about to run: a refused run leaves nothing behind.
    OutputRules.checkFolder(o.out, false, true, List.of());
    ObjectNode fixed = fixedOptions(o, dataRows);
    if (cache != null) fixed.put("cache", true);
    if (o.trainTextEncoder) fixed.put("train_text_encoder", true);
    if (o.loraRank > 0) fixed.put("lora_rank", o.loraRank).put("lora_alpha", loraConfig(o).alphaOrRank())
        .put("lora_targets", String.join(",", o.loraTargets));
    try {
      // A fresh run over an old one would mix their checkpoints (a later --resume latest could pick the old run's).
      if (o.resume == null && !Checkpoints.list(o.out).isEmpty())
        throw new UserInputException("--out " + o.out + " already holds checkpoints: continue with --resume latest,"
            + " or use another --out");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // Mixed precision: the frozen VAE (and the text encoder unless trained) in the lower precision, as diffusers'
    // vae.to(weight_dtype) / text_encoder.to(weight_dtype); the trained UNet (and a trained encoder) stay float32.
    DType frozen = o.testFrozenF32 ? DType.F32 : mp.frozenDtype(dev);
    if (mp != MixedPrecision.NO && frozen == DType.F32 && !o.testFrozenF32)
      listener.message("mixed precision: the VAE and text encoder stay float32 (" + Precision.name(mp.dtype())
          + " does not run them on " + o.device + ": " + Precision.cpuBf16Problem().orElse("?") + ")");
    // With --cache the text encoder only encodes the empty prompt (caption dropout) and validation prompts: float32, as
    // `sr4g cache` encoded every cached caption, so the dropped and kept captions come from the same encoder.
    DType teDtype = o.trainTextEncoder || cache != null ? DType.F32 : frozen;
    ModelFolder folder = ModelFolder.open(o.model, o.variant);
    // LoRA (--lora-rank): adapters trained, every base weight frozen, so the base UNet and text encoder may be held in
    // the mixed-precision dtype too (diffusers' LoRA scripts: unet.to(weight_dtype)); the adapters stay float32.
    TrainableLora lora = o.loraRank > 0 ? TrainableLora.create(LoraTargets.of(folder.unetConfig(),
        folder.textEncoderConfig()), loraConfig(o), DataLoader.mix(o.seed, 0, 3_000_017L), dev) : null;
    DType unetDtype = lora != null ? frozen : DType.F32;
    if (lora != null && cache == null) teDtype = frozen;
    try (TrainableLora closeLora = lora; DiffusersModel m = load(folder, dev, teDtype, unetDtype, frozen, lora)) {
      if (o.testLoaded != null) o.testLoaded.accept(m);
      if (frozen != DType.F32)
        listener.message("mixed precision: the frozen VAE" + (teDtype == DType.F32 ? "" : " and text encoder") + " in "
            + Precision.name(frozen) + ", the UNet" + (teDtype == DType.F32 ? " and the text encoder" : "")
            + " float32");
      String prediction = o.predictionType != null ? o.predictionType : m.schedulerConfig().predictionType();
      if (!prediction.equals("epsilon") && !prediction.equals("v_prediction"))
        throw new UserInputException("--prediction-type must be epsilon or v_prediction, got '" + prediction + "'");
      Txt2Img pipe = new Txt2Img(m, dev);
      int multiple = pipe.sizeMultiple();
      List<String> validationPrompts = o.validationPrompts == null ? List.of() : Validation.prompts(o.validationPrompts);
      if (o.resolution % multiple != 0)
        throw new UserInputException("--resolution " + o.resolution + " must be a multiple of " + multiple + " for this model");
      // Frozen components: no gradient is ever recorded for them (they also run under noGrad below).
      for (Tensor t : m.vae().params().list()) t.requiresGrad(false);
      // conv weights packed once (CPU); a fallback is said, with its reason
      var packing = m.vae().packForInference();
      if (!packing.isComplete() && !dev.isCuda()) listener.message("frozen VAE: " + packing);
      if (!o.trainTextEncoder || lora != null) for (Tensor t : m.textEncoder().params().list()) t.requiresGrad(false);
      UNet2DConditionModel unet = m.unet();
      if (lora != null) for (Tensor t : unet.params().list()) t.requiresGrad(false);
      // What is trained: the UNet's (and text encoder's) parameters, or with LoRA their adapters only. These are what
      // AdamW updates, the EMA averages, the checkpoints store, DDP's Reducer averages and clipping sees.
      Params trainedUnet = lora != null ? lora.params(Part.UNET) : unet.params();
      Params te = lora != null ? lora.params(Part.TEXT_ENCODER) : m.textEncoder().params();
      List<Tensor> trainable = new ArrayList<>(trainedUnet.list());
      if (o.trainTextEncoder) trainable.addAll(te.list());
      if (lora != null)
        listener.message("LoRA: rank " + o.loraRank + ", alpha " + lora.config().alphaOrRank() + ", "
            + trainedUnet.list().size() / 2 + " UNet layer(s)" + (o.trainTextEncoder ? " and " + te.list().size() / 2
            + " text-encoder layer(s)" : "") + ", " + lora.numel() + " trainable values; base weights frozen ("
            + Precision.name(unetDtype) + ")");
      double teLr = o.textEncoderLr != null ? o.textEncoderLr : o.lr;
      Path teConfig = folder.root().resolve("text_encoder/config.json");
      if (cache != null) {
        // A cache built from another model (SD 2 cache, SD 1.5 model) would feed the UNet wrong-sized tensors.
        long[] ls = cache.latentShape(), es = cache.embeddingShape();
        var uc = unet.config();
        if (ls[0] != uc.inChannels() || es[1] != uc.crossAttentionDim())
          throw new UserInputException("--cache " + o.cache + " was built from " + cache.modelPath() + " (latents of "
              + ls[0] + " channels, text embeddings of width " + es[1] + "); --model " + o.model + " needs "
              + uc.inChannels() + " and " + uc.crossAttentionDim() + ": rebuild the cache with sr4g cache --model "
              + o.model);
      }
      // Caption dropout from the cache: the empty prompt's embedding, encoded once by the (float32) text encoder.
      float[] emptyEmbedding = cache != null && o.captionDropout > 0 ? emptyPromptEmbedding(m, dev) : null;
      if (emptyEmbedding != null && emptyEmbedding.length != cache.embeddingShape()[0] * cache.embeddingShape()[1])
        throw new UserInputException("--cache " + o.cache + ": its text embeddings are " + java.util.Arrays.toString(
            cache.embeddingShape()) + ", --model " + o.model + "'s text encoder gives " + emptyEmbedding.length
            + " values per prompt: rebuild the cache with this model");
      unet.setGradientCheckpointing(o.gradientCheckpointing);
      if (o.gradientCheckpointing) listener.message("gradient checkpointing: on (the UNet's blocks are recomputed in the backward)");
      NoiseSchedule schedule = Scheduler.create(m.schedulerConfig()).schedule();
      float[] acp = schedule.alphasCumprod();
      LrSchedule lrs = new LrSchedule(o.lrScheduler, o.lrWarmupSteps, o.maxSteps);
      Path metricsFile = o.out.resolve("metrics.jsonl");
      Path lossSvg = o.out.resolve("loss.svg");
      GradScaler scaler = o.testGradScaler && mp != MixedPrecision.FP16
          ? new GradScaler(o.testGradScalerInitScale, 2.0, 0.5, 2000) : mp.newScaler();
      try (AdamW opt = new AdamW(trainedUnet.list(), o.lr, o.adamBeta1, o.adamBeta2, o.adamEps, o.weightDecay);
          Ema ema = o.ema ? new Ema(trainedUnet.named(), o.emaDecay) : null;
          AdamW teOpt = o.trainTextEncoder ? new AdamW(te.list(), teLr, o.adamBeta1, o.adamBeta2, o.adamEps,
              o.weightDecay) : null) {
        Checkpoints.TextEncoder teState = teOpt != null ? new Checkpoints.TextEncoder(teConfig, te, teOpt) : null;
        long step = 0, position = 0, skippedSteps = 0;
        if (o.resume != null) {
          Path ckpt = Checkpoints.resolve(o.out, o.resume);
          if (ckpt == null) {
            listener.message("no checkpoint in " + Checkpoints.dir(o.out) + ": starting a new run");
          } else {
            Checkpoints.State s = Checkpoints.load(ckpt, trainedUnet, lora, opt, ema, teState, scaler);
            dist.checkResume(ckpt, s, o.batchSize);
            if (!s.fixedOptions().toString().equals(fixed.toString()))
              throw new UserInputException("--resume " + ckpt + ": options differ from the checkpoint's (it has "
                  + s.fixedOptions() + ", this run " + fixed + "); an exact resume needs the same ones");
            step = s.step();
            position = dist.resumePosition(s);
            skippedSteps = s.skippedSteps();
            listener.message("resumed from " + ckpt + " at step " + step);
          }
        }
        dist.attach(trainable); // rank 0's weights everywhere, DDP's Reducer on the trainable parameters
        boolean fresh = dist.writes() && !Files.exists(o.out);
        if (dist.writes()) { // only rank 0 writes (docs/training.md, Distributed training)
          OutputRules.createResumable(o.out, "train");
          truncateMetrics(metricsFile, step);
        }
        if (step >= o.maxSteps) listener.message("already at step " + step + " of " + o.maxSteps);
        long startStep = step;
        List<StepMetrics> ran = new ArrayList<>();
        long lastCheckpoint = step;
        int res = o.resolution, b = o.batchSize;
        int T = acp.length;
        DataLoader data = cache != null ? null : new DataLoader(examples, o.images, res, o.randomCrop, o.randomFlip,
            o.seed, o.workers, o.prefetch, position, dist::globalPosition).maxImagePixels(o.maxImagePixels);
        LatentCache.Stream cached = cache != null ? cache.new Stream(o.seed) : null;
        try (LatentCache closeCache = cache; DataLoader closeData = data; MetricsLog metrics = new MetricsLog(metricsFile)) {
          while (step < o.maxSteps) {
            step++;
            dist.beginStep(step);
            long t0 = System.nanoTime();
            long wait0 = data != null ? data.dataWaitNanos() : 0;
            Autograd.zeroGrad(trainable);
            double lossSum = 0;
            for (int micro = 0; micro < o.gradAccum; micro++) {
              DataLoader.Batch batch = data != null ? data.next(b) : null;
              long[] cachePositions = null;
              if (batch != null) {
                position = batch.nextPosition();
              } else {
                cachePositions = new long[b];
                for (int i = 0; i < b; i++) cachePositions[i] = position++;
              }
              try (TensorScope scope = TensorScope.open();
                  Generator gen = new Generator(Device.CPU, DataLoader.mix(o.seed, step, micro))) {
                SplittableRandom r = new SplittableRandom(DataLoader.mix(o.seed, step, 1_000_003L + micro));
                boolean[] drop = dist.mine(dropped(o.seed, step, micro, dist.globalBatch(b), o.captionDropout));
                Tensor latents, context;
                if (cache != null) {
                  // Same arithmetic and generator order as the VAE path: (mean + std·ε) × scaling_factor.
                  long[] ls = cache.latentShape(), es = cache.embeddingShape();
                  int per = (int) (ls[0] * ls[1] * ls[2]), perE = (int) (es[0] * es[1]);
                  float[] mean = new float[b * per], std = new float[b * per], emb = new float[b * perE];
                  for (int i = 0; i < b; i++) {
                    LatentCache.Sample smp = cached.at(dist.globalPosition(cachePositions[i]));
                    System.arraycopy(cache.mean(smp.image()), 0, mean, i * per, per);
                    System.arraycopy(cache.std(smp.image()), 0, std, i * per, per);
                    System.arraycopy(drop[i] ? emptyEmbedding : cache.embedding(smp.caption()), 0, emb, i * perE, perE);
                  }
                  long[] shape = {b, ls[0], ls[1], ls[2]};
                  try (ModeGuard ng = Autograd.noGrad()) {
                    Tensor eps = dist.randn(gen, shape).to(dev);
                    latents = Tensor.of(mean, shape).to(dev).add(Tensor.of(std, shape).to(dev).mul(eps))
                        .mul(m.vae().scalingFactor());
                    context = Tensor.of(emb, b, es[0], es[1]).to(dev);
                  }
                } else {
                  try (ModeGuard ng = Autograd.noGrad()) {
                    Tensor pixels = Tensor.of(batch.pixels(), b, 3, res, res).to(dev);
                    var posterior = m.vae().encode(pixels);
                    // Posterior noise on the CPU generator: the same latents on every device. A VAE in the
                    // mixed-precision dtype gives mean and std in it: back to float32 before sampling.
                    Tensor eps = dist.randn(gen, posterior.mean().shape()).to(dev);
                    latents = frozen == DType.F32 ? posterior.sample(eps)
                        : posterior.mean().to(DType.F32).add(posterior.std().to(DType.F32).mul(eps));
                    latents = latents.mul(m.vae().scalingFactor());
                  }
                  long[] ids = new long[b * ClipTokenizer.CONTEXT_LENGTH];
                  for (int i = 0; i < b; i++)
                    System.arraycopy(m.tokenizer().tokenize(drop[i] ? "" : batch.captions().get(i)), 0, ids,
                        i * ClipTokenizer.CONTEXT_LENGTH, ClipTokenizer.CONTEXT_LENGTH);
                  // A trained text encoder is part of the graph, and runs under the step's autocast as accelerate
                  // runs it (float32 weights, lower-precision matmuls); a frozen one runs under no-grad in its stored
                  // dtype (null: no guard).
                  try (ModeGuard ng = o.trainTextEncoder ? null : Autograd.noGrad();
                      ModeGuard ac = o.trainTextEncoder ? mp.autocast(dev) : null) {
                    context = m.textEncoder().encode(Tensor.of(ids, b, ClipTokenizer.CONTEXT_LENGTH).to(dev), 1);
                  }
                  if (context.dtype() != DType.F32) context = context.to(DType.F32); // bf16/fp16 encoder output
                }
                long[] shape = latents.shape();
                // Drawn for the global batch, this rank's rows taken (dist.randn, dist.timesteps).
                Tensor noise = dist.randn(gen, shape);
                if (o.noiseOffset > 0)
                  noise = noise.add(dist.randn(gen, shape[0], shape[1], 1, 1).mul(o.noiseOffset));
                long[] ts = dist.timesteps(r, T, b);
                // On the latents' device: no device-to-host copy of the latents per micro-batch (the noise comes from
                // the CPU generator, so it is the same on every device, and is copied over once).
                Tensor eps = noise.to(dev);
                Tensor noisy = schedule.addNoise(latents, eps, ts);
                Tensor target = prediction.equals("epsilon") ? eps : schedule.velocity(latents, eps, ts);
                Tensor loss;
                // Mixed precision: forward and loss under autocast (weights stay float32); the loss on a float32
                // prediction, as diffusers' F.mse_loss(model_pred.float(), target.float()).
                try (ModeGuard ac = mp.autocast(dev)) {
                  Tensor pred = unet.forward(noisy, Tensor.of(ts, b).to(dev), context);
                  if (mp != MixedPrecision.NO) pred = pred.to(DType.F32);
                  if (o.snrGamma > 0) {
                    // Min-SNR-γ (Hang et al. 2023) as diffusers: min(snr, γ)/snr for ε, min(snr, γ)/(snr + 1) for v.
                    float[] w = new float[b];
                    for (int i = 0; i < b; i++) {
                      double a = acp[(int) ts[i]], snr = a / (1 - a);
                      w[i] = (float) (Math.min(snr, o.snrGamma) / (prediction.equals("epsilon") ? snr : snr + 1));
                    }
                    loss = pred.sub(target).square().mean(false, 1, 2, 3).mul(Tensor.of(w, b).to(dev)).mean();
                  } else {
                    loss = Nn.mseLoss(pred, target);
                  }
                }
                Tensor part = loss.div(o.gradAccum);
                // With gradient checkpointing this also recomputes the UNet's blocks (UNet2DConditionModel.backward,
                // under the forward's autocast); gradients still add up over the micro-batches, and clipping below
                // sees the sum as before. A trained text encoder gets its gradient through the context either way.
                boolean sync = micro == o.gradAccum - 1; // earlier micro-batches accumulate locally (DDP's no_sync)
                dist.beforeBackward(sync);
                unet.backward(scaler != null ? scaler.scale(part) : part);
                dist.afterBackward(sync);
                lossSum += loss.item();
              }
            }
            // A NaN/inf loss (a NaN cache, a diverged run) stops here, before this step updates, checkpoints or
            // publishes anything (fp16 leaves it to the loss scaler, which skips the step and stops at scale 0).
            if (scaler == null && !Double.isFinite(lossSum))
              throw new UserInputException("step " + step + ": the loss is " + lossSum + "; stopped before updating,"
                  + " checkpointing or publishing (non-finite input latents or pixels, or a diverged run: check the data"
                  + " and --lr)");
            if (o.testInfGradSteps.contains(step)) injectNonFinite(trainable.get(0));
            // fp16: unscale before clipping (the norm is the true one); an inf/NaN gradient skips the update.
            double lossScale = scaler != null ? scaler.scale() : 0;
            boolean skipped = scaler != null && scaler.unscale(trainable);
            double gradNorm = skipped ? Double.NaN : Autograd.clipGradNorm(trainable,
                o.maxGradNorm > 0 ? o.maxGradNorm : Double.POSITIVE_INFINITY);
            // The schedule advances with the updates made (AdamW's count, = step - 1 unless fp16 skipped some), as
            // accelerate's scheduler does not step after a skipped optimizer step.
            double lrNow = o.lr * lrs.factor(opt.stepCount());
            opt.setLearningRate(lrNow);
            if (teOpt != null) teOpt.setLearningRate(teLr * lrs.factor(opt.stepCount()));
            if (skipped) {
              skippedSteps++;
            } else {
              opt.step();
              if (teOpt != null) teOpt.step();
            }
            if (scaler != null) {
              scaler.update();
              // Every step since the scale was last finite overflowed (2^16 halved ~166 times): torch would go on
              // skipping forever; stop before a checkpoint records a scale of 0 that no resume can use.
              if (!(scaler.scale() > 0))
                throw new UserInputException("--mixed-precision fp16: the loss scale fell to 0 after " + skippedSteps
                    + " skipped steps (every gradient inf or NaN at step " + step + "): the run diverged; resume from"
                    + " an earlier checkpoint with a lower --lr, or use --mixed-precision bf16");
            }
            if (ema != null) ema.update(trainedUnet.named(), step);
            StepMetrics sm = new StepMetrics(step, dist.mean(lossSum) / o.gradAccum, lrNow, gradNorm,
                (System.nanoTime() - t0) / 1e6, data != null ? (data.dataWaitNanos() - wait0) / 1e6 : 0, lossScale,
                skipped, skippedSteps);
            ran.add(sm);
            if (dist.writes()) metrics.append(sm);
            listener.step(sm, o.maxSteps);
            if (o.checkpointEvery > 0 && step % o.checkpointEvery == 0) {
              checkpoint(o, dist, step, position, fixed, folder, trainedUnet, lora, opt, ema, teState, scaler, skippedSteps);
              lastCheckpoint = step;
            }
            if (dist.writes() && !validationPrompts.isEmpty() && (step == o.maxSteps
                || (o.validationEvery > 0 && step % o.validationEvery == 0))) {
              // With --ema the grid shows the average (what OUT/model gets), as diffusers: store the raw weights,
              // copy the EMA in, sample, restore (exactly, so the training continues on the raw weights unchanged).
              java.util.Map<String, Tensor> raw = ema != null ? ema.swapIn(trainedUnet.named()) : null;
              Path grid;
              try {
                grid = Validation.writeGrid(pipe, validationPrompts, res, o.validationSteps, o.seed,
                    o.validationClipSkip, o.out, step);
              } finally {
                if (raw != null) Ema.restore(trainedUnet.named(), raw);
              }
              listener.message("validation" + (ema != null ? " (EMA weights): " : ": ") + grid);
            }
            if (o.haltAfterStep > 0 && step == o.haltAfterStep) {
              metrics.flush();
              Runtime.getRuntime().halt(137); // test hook: die like SIGKILL, nothing cleaned up
            }
          }
          if (lastCheckpoint != step)
            checkpoint(o, dist, step, position, fixed, folder, trainedUnet, lora, opt, ema, teState, scaler, skippedSteps);
          else if (dist.writes()) LossChart.write(metricsFile, lossSvg);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
          // A new run that stops before its first step leaves no folder behind (only its marker was written).
          if (fresh && ran.isEmpty()) deleteQuietly(o.out);
          throw e;
        }
        // With --ema the published UNet is the average (what diffusers' script saves), the raw weights stay in the checkpoint.
        // The text encoder (with --train-text-encoder) is published as trained: the EMA covers the UNet only.
        // A LoRA run publishes its adapters (EMA averages with --ema) as diffusers' LoRA scripts do: a file beside the
        // checkpoints that `sr4g sample --lora` and `pipe.load_lora_weights` read; the base model stays where it is.
        Path finalModel = o.out.resolve(lora != null ? LoraWriter.FILE_NAME : "model");
        if (dist.writes() && lora != null)
          lora.write(finalModel, ema != null ? ema.named() : java.util.Map.of());
        else if (dist.writes())
          writeModel(folder.root(), ema != null ? ema.named() : unet.params().named(),
              o.trainTextEncoder ? te.named() : null, o.out);
        dist.barrier("final model");
        return data == null ? new Result(startStep, step, ran, 0, List.of(), finalModel, 0)
            : new Result(startStep, step, ran, data.skips(), data.skippedFiles(), finalModel, data.dataWaitNanos() / 1e6);
      }
    }
  }

  /**
   * A checkpoint of step {@code step} (and the loss chart): every rank's data cursor gathered, written by rank 0 only
   * (atomically, see {@link Checkpoints}), then a barrier, so no rank runs ahead of a checkpoint that is not there.
   */
  private static void checkpoint(TrainOptions o, DistributedTraining dist, long step, long position, ObjectNode fixed,
      ModelFolder folder, Params trainedUnet, TrainableLora lora, AdamW opt, Ema ema, Checkpoints.TextEncoder teState,
      GradScaler scaler, long skippedSteps) {
    long[] cursors = dist.cursors(position);
    if (dist.writes()) {
      Checkpoints.save(o.out, step, DistributedTraining.globalCursor(cursors), fixed,
          folder.root().resolve("unet/config.json"), trainedUnet, lora, opt, ema, teState, scaler, skippedSteps,
          o.checkpointsLimit, settings(o), cursors);
      LossChart.write(o.out.resolve("metrics.jsonl"), o.out.resolve("loss.svg"));
    }
    dist.barrier("checkpoint " + step);
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

  /** CLIP {@code last_hidden_state} (clip skip 1, as the cache stores) of the empty prompt, as a host array. */
  @SuppressWarnings("try")
  private static float[] emptyPromptEmbedding(DiffusersModel m, Device dev) {
    try (TensorScope s = TensorScope.open(); ModeGuard ng = Autograd.noGrad()) {
      Tensor ids = Tensor.of(m.tokenizer().tokenize(""), 1, ClipTokenizer.CONTEXT_LENGTH).to(dev);
      return m.textEncoder().encode(ids, 1).to(DType.F32, Device.CPU).contiguous().toFloatArray();
    }
  }

  /** Test hook: multiplies the gradient of {@code p} by +inf in place (inf where nonzero, NaN where zero). */
  @SuppressWarnings("try")
  private static void injectNonFinite(Tensor p) {
    try (TensorScope s = TensorScope.open(); ModeGuard ng = Autograd.noGrad()) {
      Tensor g = p.grad();
      g.copyFrom(g.mul(Double.POSITIVE_INFINITY));
    }
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

  /** The model of {@code folder}, with {@code lora}'s adapters attached when it is not null. */
  private static DiffusersModel load(ModelFolder folder, Device dev, DType te, DType unet, DType vae, TrainableLora lora) {
    try (FolderSource source = FolderSource.open(folder)) {
      return DiffusersModel.load(source, dev, te, unet, vae, lora != null ? lora.adapters() : java.util.Map.of());
    }
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
    ObjectNode n = JSON.createObjectNode();
    // batch_size: the global batch (ranks × --batch-size, = --batch-size for one process), so a checkpoint resumes
    // with another number of ranks exactly when the global batch is the same.
    n.put("seed", o.seed).put("resolution", o.resolution).put("batch_size", o.batchSize * o.distributed.world().size())
        .put("grad_accum", o.gradAccum).put("caption_sampling", o.captionSampling).put("random_crop", o.randomCrop)
        .put("random_flip", o.randomFlip).put("data_rows", rows).put("ema", o.ema)
        .put("ema_decay", o.ema ? o.emaDecay : 0);
    // Only when on, so that checkpoints written before the option existed still resume without it.
    if (!o.mixedPrecision.equals("no")) n.put("mixed_precision", o.mixedPrecision);
    if (o.captionDropout > 0) n.put("caption_dropout", o.captionDropout);
    // The frozen VAE and text encoder are read from the input folder again on resume: the same files, please.
    if (o.variant != null) n.put("variant", o.variant);
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

  /** OUT/metrics.jsonl, opened at the first row: a run stopped before its first step leaves no empty file. */
  private static final class MetricsLog implements java.io.Closeable {
    private final Path file;
    private BufferedWriter w;

    MetricsLog(Path file) {
      this.file = file;
    }

    void append(StepMetrics m) throws IOException {
      if (w == null)
        w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      writeMetrics(w, m);
    }

    void flush() throws IOException {
      if (w != null) w.flush();
    }

    @Override
    public void close() throws IOException {
      if (w != null) w.close();
    }
  }

  private static void writeMetrics(BufferedWriter w, StepMetrics m) throws IOException {
    String amp = m.lossScale() > 0 ? String.format(Locale.ROOT, ",\"loss_scale\":%s,\"skipped\":%b,\"skipped_steps\":%d",
        num(m.lossScale()), m.skipped(), m.skippedSteps()) : "";
    w.write(String.format(Locale.ROOT,
        "{\"step\":%d,\"loss\":%s,\"lr\":%s,\"grad_norm\":%s,\"step_time_ms\":%.3f,\"data_wait_ms\":%.3f%s}%n",
        m.step(), num(m.loss()), num(m.lr()), num(m.gradNorm()), m.stepMs(), m.dataWaitMs(), amp));
    w.flush();
  }

  /** A JSON number, or null for NaN/inf (which JSON cannot hold: a skipped fp16 step's grad norm, a diverged loss). */
  private static String num(double v) {
    return Double.isFinite(v) ? Double.toString(v) : "null";
  }

  /** A resumed run redoes the steps after its checkpoint: their rows (written before the crash) are dropped. */
  private static void truncateMetrics(Path file, long step) {
    if (!Files.exists(file)) return;
    try {
      List<String> keep = new ArrayList<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (line.isBlank()) continue;
        JsonNode n;
        try {
          n = JSON.readTree(line);
        } catch (IOException e) {
          break; // a line torn by the crash: everything after it is gone too
        }
        if (n.path("step").asLong(Long.MAX_VALUE) <= step) keep.add(line);
      }
      Path tmp = file.resolveSibling(".metrics.jsonl.tmp");
      Files.write(tmp, keep, StandardCharsets.UTF_8);
      Checkpoints.move(tmp, file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
      Checkpoints.deleteTree(tmp);
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
      Checkpoints.deleteTree(fin);
      Checkpoints.move(tmp, fin);
      return fin;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the trained model to " + out + ": " + e.getMessage(), e);
    }
  }
}

package org.sr4g.diffusion.training;

import java.nio.file.Path;

/**
 * Every setting of a training run, with the defaults of {@code sr4g train} (docs/training.md). A plain mutable holder:
 * the CLI fills it from its options, tests set the few fields they change.
 */
public final class TrainOptions {
  public Path model, data, images, out;
  /**
   * The input model's weights variant ({@code fp16}: {@code *.fp16.safetensors}, widened to float32 on load; each
   * component falls back to its plain file, as diffusers does); null: the plain files.
   */
  public String variant = null;
  /** A folder written by {@code sr4g cache} ({@link LatentCache}); replaces data and images when set. */
  public Path cache = null;
  public String device = "cpu";
  /** Square training size; 0: the model's ({@code ModelFolder.defaultResolution}), or the cache's with a cache. */
  public int resolution = 0;
  public boolean randomCrop = false;
  public boolean randomFlip = false;
  public TrainData.CaptionSampling captionSampling = TrainData.CaptionSampling.PER_PAIR;
  /**
   * Probability in [0, 1] that a training caption is replaced by the empty prompt (classifier-free guidance training,
   * diffusers' {@code --proportion_empty_prompts}); 0: off. Decided per (seed, step, micro-batch, index).
   */
  public double captionDropout = 0;
  public int batchSize = 1;
  public int gradAccum = 1;
  public long maxSteps = 1000;
  public double lr = 1e-5;
  public double adamBeta1 = 0.9, adamBeta2 = 0.999, weightDecay = 1e-2, adamEps = 1e-8;
  public double maxGradNorm = 1.0;
  public LrSchedule.Kind lrScheduler = LrSchedule.Kind.CONSTANT;
  public int lrWarmupSteps = 0;
  /** null: the scheduler config's prediction_type. */
  public PredictionType predictionType = null;
  /** 0: off. */
  public double snrGamma = 0;
  public double noiseOffset = 0;
  public long seed = 0;
  /** 0: only at the end. */
  public int checkpointEvery = 500;
  /** 0: keep all. */
  public int checkpointsLimit = 0;
  /** null, "latest" or a checkpoint folder. */
  public String resume = null;
  /** Keep an exponential moving average of the UNet weights (published as the final UNet). */
  public boolean ema = false;
  public double emaDecay = 0.9999;
  /**
   * Train the CLIP text encoder with the UNet (diffusers' {@code --train_text_encoder}): its parameters join AdamW, the
   * gradient clipping and the checkpoints, and OUT/model gets the trained encoder. Not with {@link #cache}.
   */
  public boolean trainTextEncoder = false;
  /** The text encoder's base learning rate (same schedule as the UNet's); null: {@link #lr}. */
  public Double textEncoderLr = null;
  /**
   * LoRA training ({@code --lora-rank}): rank of the low-rank adapters trained instead of the UNet (and, with
   * {@link #trainTextEncoder}, of the text encoder's q/k/v/out projections); 0: off, the whole UNet trains. The base
   * weights stay frozen (in the mixed-precision dtype when one is set); OUT gets {@code pytorch_lora_weights.safetensors}.
   */
  public int loraRank = 0;
  /** LoRA α (the adapters' output is scaled by α / rank); null: the rank (scale 1), as diffusers' LoRA scripts. */
  public Double loraAlpha = null;
  /** UNet modules that get adapters (names or their last parts, as PEFT's {@code target_modules}). */
  public java.util.List<String> loraTargets = org.sr4g.diffusion.lora.TrainableLora.Config.UNET_DEFAULT;
  /** Recompute the UNet's blocks in the backward instead of keeping their activations (less memory, at most one more forward of them). */
  public boolean gradientCheckpointing = false;
  /** null: no validation; else a prompts file (lines or JSONL) or one prompt (see {@link Validation#prompts}). */
  public String validationPrompts = null;
  /** Sample the validation prompts every this many steps (and after the last step); 0: only after the last. */
  public int validationEvery = 0;
  /** Sampler steps of a validation image. */
  public int validationSteps = 8;
  /** CLIP layer for the validation prompts (1: last, SD 1.x; 2: penultimate, SD 2.x). */
  public int validationClipSkip = 1;
  /** {@code no}, {@code bf16} (CPU or CUDA) or {@code fp16} (CUDA, with loss scaling): see {@link MixedPrecision}. */
  public MixedPrecision mixedPrecision = MixedPrecision.NO;
  /**
   * Data-parallel training: this process's rank and world, the rendezvous and the collective timeout (one process by
   * default). See {@link org.sr4g.diffusion.training.distributed.DistributedTraining}.
   */
  public org.sr4g.diffusion.training.distributed.DistributedOptions distributed =
      org.sr4g.diffusion.training.distributed.DistributedOptions.single();
  public int workers = 2;
  public int prefetch = 8;
  /** Images of more pixels are refused before decoding (Pillow's default limit). */
  public long maxImagePixels = ImagePrep.DEFAULT_MAX_PIXELS;
}

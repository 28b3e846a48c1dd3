package org.sr4g.diffusion;

import java.nio.file.Path;
import java.util.Map;
import org.sr4g.diffusion.models.AutoencoderKl;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.models.LayerAdapter;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.schedulers.Scheduler;
import org.sr4g.diffusion.schedulers.SchedulerConfig;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;

/**
 * A loaded Stable Diffusion checkpoint: text encoder, UNet and VAE (float32, or the dtype asked for, on one device,
 * owned here), the tokenizer
 * and the scheduler config. Loading refuses a folder with any problem before reading
 * a single weight, listing every bad key of every component.
 */
public final class DiffusersModel implements AutoCloseable {
  private final ModelFolder folder;
  private final ClipTokenizer tokenizer;
  private final SchedulerConfig schedulerConfig;
  private ClipTextModel textEncoder;
  private UNet2DConditionModel unet;
  private AutoencoderKl vae;

  private DiffusersModel(ModelFolder folder, ClipTokenizer tokenizer, SchedulerConfig schedulerConfig) {
    this.folder = folder;
    this.tokenizer = tokenizer;
    this.schedulerConfig = schedulerConfig;
  }

  public static DiffusersModel load(Path root, String variant, Device device) {
    return load(ModelFolder.open(root, variant), device, DType.F32);
  }

  /** Loads with every parameter cast to {@code dtype}; refused (before any weight is read) where it cannot run. */
  public static DiffusersModel load(Path root, String variant, Device device, DType dtype) {
    return load(ModelFolder.open(root, variant), device, dtype);
  }

  public static DiffusersModel load(ModelFolder folder, Device device) {
    return load(folder, device, DType.F32);
  }

  public static DiffusersModel load(ModelFolder folder, Device device, DType dtype) {
    return load(folder, device, dtype, dtype, dtype);
  }

  /**
   * Each component in its own dtype (training: a float32 UNet with a frozen VAE and text encoder in the
   * mixed-precision dtype, as diffusers' {@code vae.to(weight_dtype)}); each refused where it cannot run.
   */
  public static DiffusersModel load(ModelFolder folder, Device device, DType textEncoderDtype, DType unetDtype,
      DType vaeDtype) {
    for (DType d : new DType[] {textEncoderDtype, unetDtype, vaeDtype}) Precision.require(d, device);
    try (FolderSource source = FolderSource.open(folder)) {
      return load(source, device, textEncoderDtype, unetDtype, vaeDtype);
    }
  }

  /**
   * Loads any {@link ModelSource} (a folder, a converted single file, a model with LoRA merged in): each dtype refused
   * where it cannot run, then the parts checked against each other ({@link ModelChecks}: one line naming both files),
   * all before a weight is read. The source may be closed afterwards: the model owns copies of every tensor.
   */
  public static DiffusersModel load(ModelSource source, Device device, DType textEncoderDtype, DType unetDtype,
      DType vaeDtype) {
    return load(source, device, textEncoderDtype, unetDtype, vaeDtype, Map.of());
  }

  /**
   * As {@link #load(ModelSource, Device, DType, DType, DType)}, with run-time {@code adapters} (by part, then module
   * name) attached to the UNet's and text encoder's layers: LoRA training hands its trainable adapters in here.
   */
  public static DiffusersModel load(ModelSource source, Device device, DType textEncoderDtype, DType unetDtype,
      DType vaeDtype, Map<ModelSource.Part, Map<String, LayerAdapter>> adapters) {
    for (DType d : new DType[] {textEncoderDtype, unetDtype, vaeDtype}) Precision.require(d, device);
    ModelChecks.require(source);
    ModelFolder folder = source instanceof FolderSource f ? f.folder() : null;
    DiffusersModel m = new DiffusersModel(folder, source.tokenizer(), source.schedulerConfig());
    try {
      m.textEncoder = ClipTextModel.LOADER.load(source.textEncoderConfig(), source.weights(ModelSource.Part.TEXT_ENCODER),
          device, textEncoderDtype, adapters.getOrDefault(ModelSource.Part.TEXT_ENCODER, Map.of()));
      m.unet = UNet2DConditionModel.LOADER.load(source.unetConfig(), source.weights(ModelSource.Part.UNET), device, unetDtype,
          adapters.getOrDefault(ModelSource.Part.UNET, Map.of()));
      m.vae = AutoencoderKl.LOADER.load(source.vaeConfig(), source.weights(ModelSource.Part.VAE), device, vaeDtype);
      return m;
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
  }

  /** {@link #load(ModelSource, Device, DType, DType, DType)} with one dtype for every component. */
  public static DiffusersModel load(ModelSource source, Device device, DType dtype) {
    return load(source, device, dtype, dtype, dtype);
  }

  /** The model's own image size: the UNet's {@code sample_size} times the VAE's factor, as diffusers' pipelines. */
  public int defaultResolution() {
    return ModelFolder.defaultResolution(unet.config(), vae.config());
  }

  /** The folder the model was loaded from; null when it came from another {@link ModelSource}. */
  public ModelFolder folder() {
    return folder;
  }

  public ClipTokenizer tokenizer() {
    return tokenizer;
  }

  public SchedulerConfig schedulerConfig() {
    return schedulerConfig;
  }

  /** A fresh scheduler of the folder's class and config (schedulers keep per-run state: one per sampling run). */
  public Scheduler newScheduler() {
    return Scheduler.create(schedulerConfig);
  }

  /**
   * Makes the whole model inference-only (sampling, detection): no parameter requires gradients, and on the CPU the
   * UNet's and the VAE's conv weights are packed once for oneDNN, their dense copies freed. Returns a one-line summary.
   */
  public String packForInference() {
    for (var t : textEncoder.params().list()) t.requiresGrad(false);
    return "UNet: " + unet.packForInference() + "; VAE: " + vae.packForInference();
  }

  public ClipTextModel textEncoder() {
    return textEncoder;
  }

  public UNet2DConditionModel unet() {
    return unet;
  }

  public AutoencoderKl vae() {
    return vae;
  }

  @Override
  public void close() {
    if (textEncoder != null) textEncoder.close();
    if (unet != null) unet.close();
    if (vae != null) vae.close();
    textEncoder = null;
    unet = null;
    vae = null;
  }
}

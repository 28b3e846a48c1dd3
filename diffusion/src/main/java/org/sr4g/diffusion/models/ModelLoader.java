package org.sr4g.diffusion.models;

import java.util.List;
import java.util.Map;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;

/**
 * How one kind of model ({@link UNet2DConditionModel#LOADER}, {@link AutoencoderKl#LOADER},
 * {@link ClipTextModel#LOADER}) is loaded from a checkpoint, checked against one, or listed key by key: the model's
 * constructor run through a {@link ParamLoader} that loads, checks or only records what each module asks for.
 *
 * @param <C> the model's config
 * @param <M> the model
 */
public final class ModelLoader<C, M> {
  private final String what;
  private final ParamLoader.Builder<C, M> builder;

  /** {@code what} names the model in messages ("UNet", "VAE" …). */
  ModelLoader(String what, ParamLoader.Builder<C, M> builder) {
    this.what = what;
    this.builder = builder;
  }

  /** Loads every weight (float32, on {@code device}); a UserInputException names every missing/extra/mis-shaped key. */
  public M load(C config, Weights weights, Device device) {
    return load(config, weights, device, DType.F32);
  }

  /** As {@link #load(Object, Weights, Device)}, parameters cast to {@code dtype} (F32, F16 or BF16) on load. */
  public M load(C config, Weights weights, Device device, DType dtype) {
    return load(config, weights, device, dtype, Map.of());
  }

  /**
   * As {@link #load(Object, Weights, Device, DType)}, with {@code adapters} attached to the linear and convolution
   * layers they name (run-time LoRA); an adapter for a layer the model does not have is a UserInputException.
   */
  public M load(C config, Weights weights, Device device, DType dtype, Map<String, ? extends LayerAdapter> adapters) {
    return ParamLoader.load(what, config, weights, device, dtype, adapters, builder);
  }

  /** Every parameter key of this config with its shape, in module order (the checkpoint layout it loads). */
  public Map<String, long[]> parameterShapes(C config) {
    return ParamLoader.shapes(config, builder);
  }

  /** The weight problems of {@code weights} for this config (empty when it loads); reads no tensor data. */
  public List<String> check(C config, Weights weights) {
    return ParamLoader.problems(config, weights, builder);
  }
}

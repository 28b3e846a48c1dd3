package org.sr4g.diffusion.models;

import java.util.Collections;
import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.torch.DType;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;

/**
 * The CLIP text encoder (Hugging Face {@code CLIPTextModel}): a {@link ClipTextTransformer} under {@code text_model.}
 * (keys {@code text_model.embeddings.{token,position}_embedding}, {@code text_model.encoder.layers.{i}.*},
 * {@code text_model.final_layer_norm}), causal and without a padding mask as SD uses it. Owns its parameters;
 * {@link #forward} must run inside the caller's {@code TensorScope}, which gets every result and temporary.
 */
public final class ClipTextModel implements AutoCloseable {
  /** Loads, checks and lists the weights of this model. */
  public static final ModelLoader<ClipTextConfig, ClipTextModel> LOADER =
      new ModelLoader<>("CLIP text encoder", ClipTextModel::new);
  private static final String P = "text_model.";
  private final ClipTextConfig config;
  private final Params params;
  private final DType dtype;
  private final ClipTextTransformer transformer;

  private ClipTextModel(ClipTextConfig c, Params params, ParamLoader p) {
    this.dtype = p.dtype();
    this.config = c;
    this.params = params;
    this.transformer = new ClipTextTransformer(p, P, c);
  }

  public ClipTextConfig config() {
    return config;
  }

  /** The dtype of the parameters (F32 unless loaded with another). */
  public DType dtype() {
    return dtype;
  }

  public Params params() {
    return params;
  }

  /** Results of one forward pass; all tensors belong to the scope that was open during {@link #forward}. */
  public record Output(List<Tensor> hiddenStates, Tensor lastHiddenState, Tensor pooledOutput) {
    /** {@code hiddenStates.get(0)} is the embeddings, {@code get(i)} the output of layer i (before final_layer_norm). */
    public Output {
      hiddenStates = Collections.unmodifiableList(hiddenStates);
    }
  }

  /** ids: int64 [B, L] with L ≤ max_position_embeddings. */
  public Output forward(Tensor ids) {
    return transformer.forward(ids, null);
  }

  /** final_layer_norm(hidden) — e.g. of {@code hiddenStates.get(numLayers - 1)}, SD 2.x's penultimate layer. */
  public Tensor finalLayerNorm(Tensor hidden) {
    return transformer.finalLayerNorm(hidden);
  }

  /**
   * The conditioning SD feeds the UNet: {@code clipSkip} 1 is the last layer (SD 1.x), 2 the penultimate (SD 2.x),
   * always through final_layer_norm.
   */
  public Tensor encode(Tensor ids, int clipSkip) {
    if (clipSkip < 1 || clipSkip > config.numLayers())
      throw new UserInputException("clip skip must be 1.." + config.numLayers() + ", got " + clipSkip);
    Output o = forward(ids);
    return clipSkip == 1 ? o.lastHiddenState() : finalLayerNorm(o.hiddenStates().get(config.numLayers() + 1 - clipSkip));
  }

  @Override
  public void close() {
    params.close();
  }
}

package org.sr4g.diffusion.models;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.sr4g.UserInputException;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * The CLIP text transformer (Hugging Face {@code CLIPTextModel}); fields mirror the checkpoint keys under
 * {@code text_model.}: {@code embeddings.{token,position}_embedding}, {@code encoder.layers.{i}.*},
 * {@code final_layer_norm}. Pre-LayerNorm transformer with a causal mask and no padding mask (as SD uses it).
 * Owns its parameters; {@link #forward} must run inside the caller's {@code TensorScope}, which gets every result and
 * temporary.
 */
public final class ClipTextModel implements AutoCloseable {
  private static final String P = "text_model.";
  private final ClipTextConfig config;
  private final Params params;
  private final DType dtype;
  private final Tensor tokenEmbedding, positionEmbedding;
  private final List<EncoderLayer> layers = new ArrayList<>();
  private final LayerNorm finalLayerNorm;

  private ClipTextModel(ClipTextConfig c, Params params, ParamLoader p) {
    this.dtype = p.dtype();
    this.config = c;
    this.params = params;
    int d = c.hiddenSize();
    tokenEmbedding = p.param(P + "embeddings.token_embedding.weight", c.vocabSize(), d);
    positionEmbedding = p.param(P + "embeddings.position_embedding.weight", c.maxPositions(), d);
    p.ignore(P + "embeddings.position_ids"); // a buffer (0..76) some checkpoints carry; the positions are implied
    for (int i = 0; i < c.numLayers(); i++) layers.add(new EncoderLayer(p, P + "encoder.layers." + i, c));
    finalLayerNorm = new LayerNorm(p, P + "final_layer_norm", d, c.layerNormEps());
  }

  /** Loads every weight (float32, on {@code device}); a UserInputException names every missing/extra/mis-shaped key. */
  public static ClipTextModel load(ClipTextConfig config, Weights weights, Device device) {
    return load(config, weights, device, DType.F32);
  }

  /** As {@link #load(ClipTextConfig, Weights, Device)}, parameters cast to {@code dtype} (F32, F16 or BF16) on load. */
  public static ClipTextModel load(ClipTextConfig config, Weights weights, Device device, DType dtype) {
    ParamLoader.failOn("CLIP text encoder weights (" + weights.source() + ")", check(config, weights));
    Params params = new Params();
    try {
      return new ClipTextModel(config, params, ParamLoader.loading(weights, device, dtype, params));
    } catch (RuntimeException e) {
      params.close();
      throw e;
    }
  }

  /** Every parameter key of this config with its shape, in module order (the checkpoint layout it loads). */
  public static Map<String, long[]> parameterShapes(ClipTextConfig config) {
    ParamLoader p = ParamLoader.checking(ParamLoader.NONE);
    new ClipTextModel(config, null, p);
    return p.expectedShapes();
  }

  /** The weight problems of {@code weights} for this config (empty when it loads); reads no tensor data. */
  public static List<String> check(ClipTextConfig config, Weights weights) {
    ParamLoader p = ParamLoader.checking(weights);
    new ClipTextModel(config, null, p);
    return p.problems();
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
    if (ids.dim() != 2 || ids.dtype() != DType.I64)
      throw new IllegalArgumentException("input ids must be int64 [batch, length], got " + ids);
    long b = ids.size(0), len = ids.size(1);
    if (len > config.maxPositions())
      throw new UserInputException(len + " tokens exceed the text encoder's " + config.maxPositions() + " positions");
    Tensor positions = positionEmbedding.slice(0, 0, len, 1);
    Tensor x = Nn.embedding(tokenEmbedding, ids).add(positions);
    List<Tensor> hidden = new ArrayList<>();
    hidden.add(x);
    for (EncoderLayer layer : layers) {
      Tensor in = x;
      x = TensorScope.within(() -> layer.forward(in)); // each layer's temporaries die with it
      hidden.add(x);
    }
    Tensor last = finalLayerNorm.forward(x);
    return new Output(hidden, last, pool(last, ids.toLongArray(), b, len));
  }

  /** final_layer_norm(hidden) — e.g. of {@code hiddenStates.get(numLayers - 1)}, SD 2.x's penultimate layer. */
  public Tensor finalLayerNorm(Tensor hidden) {
    return finalLayerNorm.forward(hidden);
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

  /**
   * The hidden state at each row's end token, as transformers does: the first position of eos_token_id, except for
   * the legacy eos_token_id 2 of older configs, where the end token is the largest id (argmax).
   */
  private Tensor pool(Tensor last, long[] ids, long b, long len) {
    long[] rows = new long[(int) b];
    for (int r = 0; r < b; r++) {
      int best = 0;
      for (int i = 0; i < len; i++) {
        long id = ids[(int) (r * len + i)];
        if (config.eosTokenId() == 2 ? id > ids[(int) (r * len + best)] : id == config.eosTokenId()) {
          best = i;
          if (config.eosTokenId() != 2) break;
        }
      }
      rows[r] = r * len + best;
    }
    Tensor index = Tensor.of(rows, b).to(last.device());
    return last.reshape(b * len, last.size(2)).indexSelect(0, index);
  }

  @Override
  public void close() {
    params.close();
  }

  /** {@code text_model.encoder.layers.{i}}: pre-LN self-attention and MLP, each with a residual. */
  private static final class EncoderLayer {
    private final LayerNorm layerNorm1, layerNorm2;
    private final Linear qProj, kProj, vProj, outProj, fc1, fc2;
    private final int heads;
    private final boolean quickGelu;

    EncoderLayer(ParamLoader p, String prefix, ClipTextConfig c) {
      int d = c.hiddenSize();
      layerNorm1 = new LayerNorm(p, prefix + ".layer_norm1", d, c.layerNormEps());
      qProj = new Linear(p, prefix + ".self_attn.q_proj", d, d, true);
      kProj = new Linear(p, prefix + ".self_attn.k_proj", d, d, true);
      vProj = new Linear(p, prefix + ".self_attn.v_proj", d, d, true);
      outProj = new Linear(p, prefix + ".self_attn.out_proj", d, d, true);
      layerNorm2 = new LayerNorm(p, prefix + ".layer_norm2", d, c.layerNormEps());
      fc1 = new Linear(p, prefix + ".mlp.fc1", d, c.intermediateSize(), true);
      fc2 = new Linear(p, prefix + ".mlp.fc2", c.intermediateSize(), d, true);
      heads = c.numHeads();
      quickGelu = c.hiddenAct().equals("quick_gelu");
    }

    Tensor forward(Tensor x) {
      Tensor h = layerNorm1.forward(x);
      Tensor a = Nn.multiHeadAttention(qProj.forward(h), kProj.forward(h), vProj.forward(h), heads, null, true);
      x = x.add(outProj.forward(a));
      Tensor m = fc1.forward(layerNorm2.forward(x));
      // quick_gelu(x) = x·σ(1.702x), the OpenAI approximation the SD 1.x encoder was trained with; "gelu" is exact erf.
      m = quickGelu ? m.mul(m.mul(1.702).sigmoid()) : m.gelu();
      return x.add(fc2.forward(m));
    }
  }
}

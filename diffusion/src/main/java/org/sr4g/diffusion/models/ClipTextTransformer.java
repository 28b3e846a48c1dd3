package org.sr4g.diffusion.models;

import java.util.ArrayList;
import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.torch.DType;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * The CLIP text transformer under a key prefix ({@code text_model.} in {@code CLIPTextModel}, {@code
 * owlvit.text_model.} in OWL-ViT): {@code embeddings.{token,position}_embedding}, {@code encoder.layers.{i}.*},
 * {@code final_layer_norm}. Pre-LayerNorm, causal, and optionally masking padded key positions as transformers does
 * when it is given an {@code attention_mask}. A module: its parameters belong to the model that built it.
 */
public final class ClipTextTransformer {
  private final ClipTextConfig config;
  private final Tensor tokenEmbedding, positionEmbedding;
  private final List<ClipEncoderLayer> layers = new ArrayList<>();
  private final LayerNorm finalLayerNorm;

  /** {@code prefix} ends with a dot, e.g. {@code "text_model."}. */
  public ClipTextTransformer(ParamLoader p, String prefix, ClipTextConfig c) {
    this.config = c;
    int d = c.hiddenSize();
    tokenEmbedding = p.param(prefix + "embeddings.token_embedding.weight", c.vocabSize(), d);
    positionEmbedding = p.param(prefix + "embeddings.position_embedding.weight", c.maxPositions(), d);
    p.ignore(prefix + "embeddings.position_ids"); // a buffer (0..L-1) some checkpoints carry; the positions are implied
    for (int i = 0; i < c.numLayers(); i++)
      layers.add(new ClipEncoderLayer(p, prefix + "encoder.layers." + i, d, c.intermediateSize(), c.numHeads(),
          c.hiddenAct(), c.layerNormEps()));
    finalLayerNorm = new LayerNorm(p, prefix + "final_layer_norm", d, c.layerNormEps());
  }

  public ClipTextConfig config() {
    return config;
  }

  /**
   * ids: int64 [B, L] with L ≤ max_position_embeddings; {@code attentionMask}: null (every position attends to all
   * earlier ones, as Stable Diffusion uses the encoder) or [B, L] of 0/1, where keys with 0 are masked as in
   * transformers (an added {@code finfo(dtype).min} on top of the causal −inf).
   */
  public ClipTextModel.Output forward(Tensor ids, Tensor attentionMask) {
    if (ids.dim() != 2 || ids.dtype() != DType.I64)
      throw new IllegalArgumentException("input ids must be int64 [batch, length], got " + ids);
    long b = ids.size(0), len = ids.size(1);
    if (len > config.maxPositions())
      throw new UserInputException(len + " tokens exceed the text encoder's " + config.maxPositions() + " positions");
    Tensor positions = positionEmbedding.slice(0, 0, len, 1);
    Tensor x = Nn.embedding(tokenEmbedding, ids).add(positions);
    Tensor mask = attentionMask == null ? null : additiveMask(attentionMask, len, x.dtype());
    List<Tensor> hidden = new ArrayList<>();
    hidden.add(x);
    for (ClipEncoderLayer layer : layers) {
      // A scope per layer frees its temporaries (attention scores, MLP activations) at once; autograd keeps what it
      // saved, so this is as safe for training as for inference.
      try (TensorScope scope = TensorScope.open()) {
        x = scope.keep(mask == null ? layer.forward(x, null, true) : layer.forward(x, mask, false));
      }
      hidden.add(x);
    }
    Tensor last = finalLayerNorm.forward(x);
    return new ClipTextModel.Output(hidden, last, pool(last, ids.toLongArray(), b, len));
  }

  /** final_layer_norm(hidden). */
  public Tensor finalLayerNorm(Tensor hidden) {
    return finalLayerNorm.forward(hidden);
  }

  /**
   * [B, 1, L, L]: −inf above the diagonal (causal), the dtype's lowest finite value for padded keys (0 in the mask),
   * summed as transformers adds its two masks (both: −inf), else 0.
   */
  private static Tensor additiveMask(Tensor attentionMask, long len, DType dtype) {
    if (attentionMask.dim() != 2 || attentionMask.size(1) != len)
      throw new IllegalArgumentException("attention mask must be [batch, " + len + "], got " + attentionMask);
    float[] causal = new float[(int) (len * len)];
    for (int i = 0; i < len; i++)
      for (int j = i + 1; j < len; j++) causal[(int) (i * len + j)] = Float.NEGATIVE_INFINITY;
    double min = switch (dtype) {
      case F16 -> -65504.0;
      case BF16 -> -3.3895313892515355e38;
      default -> -Float.MAX_VALUE;
    };
    Tensor padding = attentionMask.to(DType.F32).rsub(1.0).mul(min).reshape(attentionMask.size(0), 1, 1, len);
    Tensor sum = padding.add(Tensor.of(causal, len, len).to(attentionMask.device()));
    return dtype == DType.F32 ? sum : sum.to(dtype);
  }

  /**
   * The hidden state at each row's end token, as transformers does: the first position of eos_token_id, except for
   * the legacy eos_token_id 2 of older configs, where the end token is the largest id (argmax). (With CLIP's
   * vocabulary the end token 49407 is also the largest id, so both rules pick the same position; a row without it —
   * e.g. all padding — pools position 0, as argmax does.)
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
}

package org.sr4g.detection.owlvit;

import java.util.ArrayList;
import java.util.List;
import org.sr4g.diffusion.models.ClipEncoderLayer;
import org.sr4g.diffusion.models.LayerNorm;
import org.sr4g.diffusion.models.ParamLoader;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * {@code owlvit.vision_model}: patch embedding (a Conv2d without bias, stride = kernel = patch size; patches in
 * row-major order), the class embedding prepended, position embeddings added, {@code pre_layernorm}, the CLIP encoder
 * layers (no mask), and {@code post_layernorm} — which OWL-ViT applies to every token, not only the class token.
 */
final class VisionTransformer {
  private static final String P = "owlvit.vision_model.";
  private final OwlVitConfig.Vision c;
  private final Tensor classEmbedding, patchEmbedding, positionEmbedding;
  private final LayerNorm preLayerNorm, postLayerNorm;
  private final List<ClipEncoderLayer> layers = new ArrayList<>();

  VisionTransformer(ParamLoader p, OwlVitConfig.Vision c) {
    this.c = c;
    int w = c.hiddenSize();
    classEmbedding = p.param(P + "embeddings.class_embedding", w);
    patchEmbedding = p.param(P + "embeddings.patch_embedding.weight", w, c.numChannels(), c.patchSize(), c.patchSize());
    positionEmbedding = p.param(P + "embeddings.position_embedding.weight", c.patches() + 1, w);
    p.ignore(P + "embeddings.position_ids");
    preLayerNorm = new LayerNorm(p, P + "pre_layernorm", w, c.layerNormEps());
    for (int i = 0; i < c.numLayers(); i++)
      layers.add(new ClipEncoderLayer(p, P + "encoder.layers." + i, w, c.intermediateSize(), c.numHeads(), c.hiddenAct(),
          c.layerNormEps()));
    postLayerNorm = new LayerNorm(p, P + "post_layernorm", w, c.layerNormEps());
  }

  /** Hidden states after pre_layernorm and after each layer; {@code tokens} = post_layernorm of the last, all tokens. */
  record Output(List<Tensor> hidden, Tensor tokens) {}

  /**
   * pixels [B, 3, S, S] in the parameters' dtype → tokens [B, 1 + patches, width] (token 0: the class token).
   * {@code keepHidden}: also return every hidden state (parity checks); otherwise each layer's input is freed as soon
   * as the next exists, so memory holds about one layer's activations.
   */
  Output forward(Tensor pixels, boolean keepHidden) {
    long b = pixels.size(0), w = c.hiddenSize();
    Tensor patches = Nn.conv2d(pixels, patchEmbedding, null, c.patchSize(), 0, 1)
        .reshape(b, w, c.patches()).permute(0, 2, 1);
    // 0 + v is exact: the class embedding repeated per image, without an expand op.
    Tensor cls = Tensor.zeros(patches.dtype(), pixels.device(), b, 1, w).add(classEmbedding);
    Tensor x = Tensor.cat(List.of(cls, patches), 1).add(positionEmbedding);
    x = preLayerNorm.forward(x);
    List<Tensor> hidden = new ArrayList<>();
    if (keepHidden) hidden.add(x);
    for (ClipEncoderLayer layer : layers) {
      try (TensorScope scope = TensorScope.open()) {
        Tensor in = x;
        x = scope.keep(layer.forward(x, null, false));
        if (!keepHidden) in.close(); // the caller's scope owned it; closing early is allowed and idempotent
      }
      if (keepHidden) hidden.add(x);
    }
    return new Output(hidden, postLayerNorm.forward(x));
  }
}

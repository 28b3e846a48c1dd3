package org.sr4g.detection.owlvit;

import java.util.List;
import java.util.Map;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.models.ClipTextTransformer;
import org.sr4g.diffusion.models.LayerNorm;
import org.sr4g.diffusion.models.Linear;
import org.sr4g.diffusion.models.ParamLoader;
import org.sr4g.diffusion.models.Weights;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;

/**
 * OWL-ViT v1 ({@code OwlViTForObjectDetection}) with the checkpoint's module tree: {@code owlvit.vision_model}
 * ({@link VisionTransformer}), {@code owlvit.text_model} (the CLIP {@link ClipTextTransformer} with its padding mask),
 * {@code owlvit.text_projection}, {@code layer_norm}, {@code class_head} ({@link ClassHead}), {@code box_head}
 * ({@link BoxHead}). {@code owlvit.visual_projection} and {@code owlvit.logit_scale} belong to the CLIP-style image
 * embedding, which detection does not use; {@code position_ids} buffers are ignored.
 *
 * <p>Owns its parameters; {@link #forward} puts every result and temporary in the caller's open TensorScope.
 */
public final class OwlVitDetector implements AutoCloseable {
  private final OwlVitConfig config;
  private final Params params;
  private final DType dtype;
  private final VisionTransformer vision;
  private final ClipTextTransformer text;
  private final Linear textProjection;
  private final LayerNorm layerNorm;
  private final ClassHead classHead;
  private final BoxHead boxHead;

  private OwlVitDetector(OwlVitConfig c, Params params, ParamLoader p) {
    this.config = c;
    this.params = params;
    this.dtype = p.dtype();
    vision = new VisionTransformer(p, c.vision());
    text = new ClipTextTransformer(p, "owlvit.text_model.", c.text());
    textProjection = new Linear(p, "owlvit.text_projection", c.text().hiddenSize(), c.projectionDim(), false);
    p.ignore("owlvit.visual_projection.weight");
    p.ignore("owlvit.logit_scale");
    layerNorm = new LayerNorm(p, "layer_norm", c.vision().hiddenSize(), c.vision().layerNormEps());
    classHead = new ClassHead(p, c);
    boxHead = new BoxHead(p, c);
  }

  /** Loads every weight (cast to {@code dtype}: F32, F16 or BF16) after checking all keys and shapes. */
  public static OwlVitDetector load(OwlVitConfig config, Weights weights, Device device, DType dtype) {
    ParamLoader.failOn("OWL-ViT weights (" + weights.source() + ")", check(config, weights));
    Params params = new Params();
    try {
      return new OwlVitDetector(config, params, ParamLoader.loading(weights, device, dtype, params));
    } catch (RuntimeException e) {
      params.close();
      throw e;
    }
  }

  /** Every problem of {@code weights} for this config (missing, unexpected, mis-shaped keys); reads no tensor data. */
  public static List<String> check(OwlVitConfig config, Weights weights) {
    ParamLoader p = ParamLoader.checking(weights);
    new OwlVitDetector(config, null, p);
    return p.problems();
  }

  /** Every parameter key with its shape, in module order (random weights for benchmarks, tests). */
  public static Map<String, long[]> parameterShapes(OwlVitConfig config) {
    ParamLoader p = ParamLoader.checking(new org.sr4g.diffusion.models.MapWeights(Map.of()));
    new OwlVitDetector(config, null, p);
    return p.expectedShapes();
  }

  public OwlVitConfig config() {
    return config;
  }

  public DType dtype() {
    return dtype;
  }

  public Params params() {
    return params;
  }

  /** Every intermediate the golden fixture records, for parity checks. */
  public record Debug(List<Tensor> visionHidden, Tensor visionPooled, List<Tensor> textHidden, Tensor textLast,
      Tensor textPooled, Tensor textProjected, Tensor boxHead, Tensor boxBias, Tensor logitShift, Tensor logitScale) {}

  /**
   * Outputs as transformers names them: {@code logits} [B, P, Q] (padded queries −1e6), {@code predBoxes} [B, P, 4]
   * (cx, cy, w, h in [0, 1] of the model input), {@code textEmbeds} [B, Q, D] (normalised queries),
   * {@code imageEmbeds} [B, g, g, W], {@code classEmbeds} [B, P, D]; P = g² patches in row-major order.
   */
  public record Output(Tensor logits, Tensor predBoxes, Tensor textEmbeds, Tensor imageEmbeds, Tensor classEmbeds,
      Debug debug) {}

  /**
   * @param pixelValues [B, 3, S, S], S = image_size (any float dtype; cast to the parameters')
   * @param inputIds int64 [B·Q, L]: row b·Q + q is query q of image b; a row whose first id is 0 is a padded query
   * @param attentionMask int64 [B·Q, L] of 0/1
   */
  public Output forward(Tensor pixelValues, Tensor inputIds, Tensor attentionMask) {
    return forward(pixelValues, inputIds, attentionMask, true);
  }

  /**
   * As {@link #forward(Tensor, Tensor, Tensor)}; without {@code keepHidden} the vision tower's hidden states are not
   * kept ({@code debug().visionHidden()} is empty) and each layer's activations are freed as the next layer runs —
   * what detection runs use, since a tower's hidden states are most of the memory at full size.
   */
  public Output forward(Tensor pixelValues, Tensor inputIds, Tensor attentionMask, boolean keepHidden) {
    long b = pixelValues.size(0);
    int s = config.vision().imageSize(), g = config.vision().grid(), w = config.vision().hiddenSize();
    if (pixelValues.dim() != 4 || pixelValues.size(1) != 3 || pixelValues.size(2) != s || pixelValues.size(3) != s)
      throw new IllegalArgumentException("pixel values must be [B, 3, " + s + ", " + s + "], got " + pixelValues);
    if (inputIds.dim() != 2 || inputIds.size(0) % b != 0 || inputIds.size(0) == 0)
      throw new IllegalArgumentException("input ids must be [B·Q, L] with B = " + b + ", got " + inputIds);
    long q = inputIds.size(0) / b;

    VisionTransformer.Output v = vision.forward(pixelValues.dtype() == dtype ? pixelValues : pixelValues.to(dtype),
        keepHidden);
    long tokens = v.tokens().size(1);
    Tensor cls = v.tokens().slice(1, 0, 1, 1);
    Tensor features = layerNorm.forward(v.tokens().slice(1, 1, tokens, 1).mul(cls)); // [B, P, W]

    ClipTextModel.Output t = text.forward(inputIds, attentionMask);
    Tensor projected = textProjection.forward(t.pooledOutput());
    Tensor queries = l2Normalize(projected, 0).reshape(b, q, config.projectionDim());

    ClassHead.Output c = classHead.forward(features, queries);
    Tensor logits = maskPaddedQueries(c.logits(), inputIds, b, q);
    Tensor head = boxHead.forward(features);
    Tensor bias = BoxBias.of(g, head.device(), head.dtype());
    Tensor boxes = head.add(bias).sigmoid();
    Debug debug = new Debug(v.hidden(), cls.reshape(b, w), t.hiddenStates(), t.lastHiddenState(), t.pooledOutput(),
        projected, head, bias, c.logitShift(), c.logitScale());
    return new Output(logits, boxes, queries, features.reshape(b, g, g, w), c.classEmbeds(), debug);
  }

  /** A query whose first token id is 0 (a padded query) gets logit −1e6 for every patch, as transformers sets it. */
  private static Tensor maskPaddedQueries(Tensor logits, Tensor inputIds, long b, long q) {
    long[] ids = inputIds.slice(1, 0, 1, 1).to(Device.CPU).toLongArray();
    boolean[] keep = new boolean[ids.length];
    boolean any = false;
    for (int i = 0; i < ids.length; i++) {
      keep[i] = ids[i] > 0;
      any |= !keep[i];
    }
    if (!any) return logits;
    Tensor mask = Tensor.of(keep, b, 1, q).to(logits.device());
    return Tensor.where(mask, logits, Tensor.full(-1e6, logits.dtype(), logits.device(), 1));
  }

  /** x / (‖x‖₂ + eps) over the last dimension. */
  static Tensor l2Normalize(Tensor x, double eps) {
    Tensor norm = x.square().sum(true, -1).sqrt();
    return x.div(eps == 0 ? norm : norm.add(eps));
  }

  @Override
  public void close() {
    params.close();
  }
}

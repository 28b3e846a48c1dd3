package org.sr4g.diffusion.models;

import static org.sr4g.diffusion.models.GradientCheckpointing.segment;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.BiConsumer;
import org.sr4g.UserInputException;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * diffusers {@code UNet2DConditionModel} (SD 1.x/2.x layout); fields mirror the checkpoint keys: {@code conv_in},
 * {@code time_embedding.linear_{1,2}}, {@code down_blocks.{i}}, {@code mid_block}, {@code up_blocks.{i}},
 * {@code conv_norm_out}, {@code conv_out}. Owns its parameters (which require gradients, so it can be fine-tuned;
 * wrap inference in {@code Autograd.noGrad()}). {@link #forward} must run inside the caller's {@code TensorScope},
 * which gets every result and temporary.
 *
 * <p>With {@link #setGradientCheckpointing gradient checkpointing} on, a forward with grad enabled keeps only the
 * inputs of the blocks' layers and recomputes each layer when the backward reaches it: a plain
 * {@code loss.backward()} (see {@link GradientCheckpointing}).
 */
public final class UNet2DConditionModel implements AutoCloseable {
  /** Loads, checks and lists the weights of this model. */
  public static final ModelLoader<UNetConfig, UNet2DConditionModel> LOADER =
      new ModelLoader<>("UNet", UNet2DConditionModel::new);
  private static final BiConsumer<String, Tensor> NO_TAPS = (name, t) -> {};
  private final UNetConfig config;
  private final Params params;
  private final DType dtype;
  private final Conv2d convIn, convOut;
  private final Linear timeLinear1, timeLinear2;
  private final List<DownBlock> downBlocks = new ArrayList<>();
  private final MidBlock midBlock;
  private final List<UpBlock> upBlocks = new ArrayList<>();
  private final GroupNorm convNormOut;
  private final InferencePacking packing;
  private volatile boolean gradientCheckpointing;

  private UNet2DConditionModel(UNetConfig c, Params params, ParamLoader p) {
    this.dtype = p.dtype();
    this.config = c;
    this.params = params;
    List<Integer> ch = c.blockOutChannels();
    int n = ch.size(), g = c.normNumGroups();
    long temb = c.timeEmbedDim(), cross = c.crossAttentionDim();
    double eps = c.normEps();
    convIn = new Conv2d(p, "conv_in", c.inChannels(), ch.get(0), 3, 1, 1);
    timeLinear1 = new Linear(p, "time_embedding.linear_1", ch.get(0), temb, true);
    timeLinear2 = new Linear(p, "time_embedding.linear_2", temb, temb, true);

    long in = ch.get(0);
    for (int i = 0; i < n; i++) {
      String b = "down_blocks." + i;
      long out = ch.get(i);
      boolean attn = c.downBlockTypes().get(i).equals(UNetConfig.CROSS_DOWN);
      DownBlock block = new DownBlock();
      for (int j = 0; j < c.layersPerBlock(); j++) {
        block.resnets.add(new ResnetBlock2D(p, b + ".resnets." + j, j == 0 ? in : out, out, temb, g, eps));
        block.attentions.add(attn ? new Transformer2D(p, b + ".attentions." + j, out, c.numHeads().get(i),
            c.transformerLayers().get(i), cross, g, c.useLinearProjection()) : null);
      }
      block.downsampler = i < n - 1 ? new Downsample2D(p, b + ".downsamplers.0", out, c.downsamplePadding()) : null;
      downBlocks.add(block);
      in = out;
    }

    long top = ch.get(n - 1);
    midBlock = new MidBlock(p, "mid_block", top, temb, g, eps, c.numHeads().get(n - 1),
        c.transformerLayers().get(n - 1), cross, c.useLinearProjection());

    // Up blocks mirror the down blocks: channels, heads and transformer depth reversed; each resnet takes the
    // previous output concatenated with a skip from the matching down block.
    long prevOut = top;
    for (int i = 0; i < n; i++) {
      String b = "up_blocks." + i;
      int rev = n - 1 - i;
      long out = ch.get(rev), skipIn = ch.get(Math.max(rev - 1, 0));
      boolean attn = c.upBlockTypes().get(i).equals(UNetConfig.CROSS_UP);
      UpBlock block = new UpBlock();
      int layers = c.layersPerBlock() + 1;
      for (int j = 0; j < layers; j++) {
        long skip = j == layers - 1 ? skipIn : out;
        long resIn = j == 0 ? prevOut : out;
        block.resnets.add(new ResnetBlock2D(p, b + ".resnets." + j, resIn + skip, out, temb, g, eps));
        block.attentions.add(attn ? new Transformer2D(p, b + ".attentions." + j, out, c.numHeads().get(rev),
            c.transformerLayers().get(rev), cross, g, c.useLinearProjection()) : null);
      }
      block.upsampler = i < n - 1 ? new Upsample2D(p, b + ".upsamplers.0", out) : null;
      upBlocks.add(block);
      prevOut = out;
    }
    convNormOut = new GroupNorm(p, "conv_norm_out", g, ch.get(0), eps);
    convOut = new Conv2d(p, "conv_out", ch.get(0), c.outChannels(), 3, 1, 1);
    packing = new InferencePacking(p.convs());
  }

  public UNetConfig config() {
    return config;
  }

  /** The dtype of the parameters (F32 unless loaded with another). */
  public DType dtype() {
    return dtype;
  }

  public Params params() {
    return params;
  }

  /**
   * Makes this UNet inference-only: parameters stop requiring gradients and, on the CPU, every conv weight is packed
   * once for oneDNN and its dense copy freed ({@link InferencePacking}). For sampling and benchmarks, never for a UNet
   * being trained. Idempotent; returns what was done (or why not): {@link InferencePacking#isComplete()}, its text.
   */
  public InferencePacking packForInference() {
    return packing.apply(params);
  }

  /**
   * Gradient checkpointing (diffusers' {@code enable_gradient_checkpointing}): when on, a forward with grad enabled
   * runs every layer of the down, mid and up blocks (resnet, transformer, down/upsampler) without keeping its
   * activations, and the backward recomputes them one at a time — less activation memory for at most one more
   * forward of the blocks. Forwards under no-grad are unchanged; the backward is a plain {@code loss.backward()}.
   */
  public void setGradientCheckpointing(boolean on) {
    gradientCheckpointing = on;
  }

  public boolean isGradientCheckpointing() {
    return gradientCheckpointing;
  }

  /**
   * Exactly {@code loss.backward()}, with or without gradient checkpointing (the checkpointed layers recompute
   * themselves when the backward reaches them). Kept for callers written when checkpointing needed a call of its own;
   * new code calls {@code loss.backward()}.
   */
  public void backward(Tensor loss) {
    loss.backward();
  }

  /** Predicted noise (or v) for {@code sample}; see {@link #forward(Tensor, Tensor, Tensor, BiConsumer)}. */
  public Tensor forward(Tensor sample, Tensor timesteps, Tensor encoderHiddenStates) {
    return forward(sample, timesteps, encoderHiddenStates, NO_TAPS);
  }

  /**
   * sample [B, in_channels, H, W] (H and W divisible by 2^(blocks−1)); timesteps int64 or float, one value or one per
   * batch element; encoderHiddenStates [B, L, cross_attention_dim]. {@code taps} receives intermediate results by
   * module name ({@code time_embedding}, {@code down_blocks.i}, {@code mid_block}, {@code up_blocks.i}). Inputs are
   * cast to the parameters' dtype (taps are in that dtype); the result is always float32.
   */
  public Tensor forward(Tensor sample, Tensor timesteps, Tensor encoderHiddenStates, BiConsumer<String, Tensor> taps) {
    long b = sample.size(0);
    int factor = 1 << (downBlocks.size() - 1);
    if (sample.dim() != 4 || sample.size(2) % factor != 0 || sample.size(3) % factor != 0)
      throw new UserInputException("UNet sample must be [B, C, H, W] with H and W divisible by " + factor + ", got "
          + java.util.Arrays.toString(sample.shape()));
    if (sample.dtype() != dtype) sample = sample.to(dtype);
    if (encoderHiddenStates.dtype() != dtype) encoderHiddenStates = encoderHiddenStates.to(dtype);
    if (config.centerInputSample()) sample = sample.mul(2.0).sub(1.0);

    Tensor temb = timestepEmbedding(timesteps, b);
    if (dtype != DType.F32) temb = temb.to(dtype);
    Tensor emb = timeLinear2.forward(timeLinear1.forward(temb).silu());
    taps.accept("time_embedding", emb);

    Tensor h = convIn.forward(sample);
    boolean checkpoint = gradientCheckpointing && Autograd.isGradEnabled();
    // Without checkpointing or taps, a block output is dead once the next layer ran: free it then (the graph, if any,
    // keeps what its backward needs), so the up path holds one activation per layer instead of all of them.
    boolean release = !checkpoint && taps == NO_TAPS;
    Deque<Tensor> skips = new ArrayDeque<>();
    skips.push(h);
    for (int i = 0; i < downBlocks.size(); i++) {
      h = downBlocks.get(i).forward(checkpoint, h, emb, encoderHiddenStates, skips);
      taps.accept("down_blocks." + i, h);
    }
    h = midBlock.forward(checkpoint, release, h, emb, encoderHiddenStates);
    taps.accept("mid_block", h);
    for (int i = 0; i < upBlocks.size(); i++) {
      h = upBlocks.get(i).forward(checkpoint, release, h, emb, encoderHiddenStates, skips);
      taps.accept("up_blocks." + i, h);
    }
    Tensor last = h;
    Tensor out = TensorScope.within(() -> convOut.forward(convNormOut.forward(last).silu()));
    if (release) last.close();
    return dtype == DType.F32 ? out : out.to(DType.F32);
  }

  /** Frees {@code dead} when releasing is on (no checkpointing, no taps): its last user has run. */
  private static void drop(boolean release, Tensor dead) {
    if (release) dead.close();
  }

  /**
   * diffusers' {@code get_timestep_embedding} in float32: {@code freq_k = exp(−ln(10000)·k / (half − freq_shift))},
   * {@code [sin(t·freq), cos(t·freq)]}, swapped to cos-first when {@code flip_sin_to_cos}. One timestep is broadcast to
   * the batch (as diffusers' {@code expand}).
   */
  private Tensor timestepEmbedding(Tensor timesteps, long batch) {
    long n = timesteps.numel();
    if (n != 1 && n != batch)
      throw new IllegalArgumentException("need 1 or " + batch + " timesteps, got " + n);
    int dim = config.blockOutChannels().get(0), half = dim / 2;
    Tensor t = timesteps.to(DType.F32).reshape(n, 1);
    if (n != batch) t = t.add(Tensor.zeros(DType.F32, t.device(), batch, 1)); // exact broadcast to the batch
    Tensor exponent = Tensor.arange(0, half, 1, DType.F32, t.device()).mul(-Math.log(10000));
    Tensor freqs = exponent.div(half - config.freqShift()).exp();
    Tensor args = t.mul(freqs.reshape(1, half));
    List<Tensor> parts = config.flipSinToCos() ? List.of(args.cos(), args.sin()) : List.of(args.sin(), args.cos());
    return Tensor.cat(parts, 1);
  }

  @Override
  public void close() {
    if (params != null) params.close();
  }

  /** {@code CrossAttnDownBlock2D} (with attentions) or {@code DownBlock2D} (attentions all null). */
  private static final class DownBlock {
    final List<ResnetBlock2D> resnets = new ArrayList<>();
    final List<Transformer2D> attentions = new ArrayList<>();
    Downsample2D downsampler;

    /**
     * Pushes every intermediate output onto {@code skips} (the up blocks pop them). With {@code checkpoint} each
     * resnet, transformer and the downsampler is a recomputed segment.
     */
    Tensor forward(boolean checkpoint, Tensor h, Tensor emb, Tensor context, Deque<Tensor> skips) {
      for (int j = 0; j < resnets.size(); j++) {
        ResnetBlock2D res = resnets.get(j);
        Transformer2D attn = attentions.get(j);
        h = segment(checkpoint, in -> res.forward(in.get(0), in.get(1)), h, emb);
        if (attn != null) h = segment(checkpoint, in -> attn.forward(in.get(0), in.get(1)), h, context);
        skips.push(h);
      }
      if (downsampler != null) {
        h = segment(checkpoint, in -> downsampler.forward(in.get(0)), h);
        skips.push(h);
      }
      return h;
    }
  }

  /** {@code UNetMidBlock2DCrossAttn}: {@code resnets.0}, then per layer {@code attentions.i}, {@code resnets.i+1}. */
  private static final class MidBlock {
    private final ResnetBlock2D first;
    private final List<Transformer2D> attentions = new ArrayList<>();
    private final List<ResnetBlock2D> resnets = new ArrayList<>();

    MidBlock(ParamLoader p, String prefix, long ch, long temb, int groups, double eps, int heads, int depth,
        long cross, boolean linearProjection) {
      first = new ResnetBlock2D(p, prefix + ".resnets.0", ch, ch, temb, groups, eps);
      attentions.add(new Transformer2D(p, prefix + ".attentions.0", ch, heads, depth, cross, groups, linearProjection));
      resnets.add(new ResnetBlock2D(p, prefix + ".resnets.1", ch, ch, temb, groups, eps));
    }

    /** {@code release}: free each intermediate output once the next layer ran (the input stays). */
    Tensor forward(boolean checkpoint, boolean release, Tensor h, Tensor emb, Tensor context) {
      h = segment(checkpoint, in -> first.forward(in.get(0), in.get(1)), h, emb);
      for (int i = 0; i < attentions.size(); i++) {
        Transformer2D attn = attentions.get(i);
        ResnetBlock2D res = resnets.get(i);
        Tensor a = segment(checkpoint, in -> attn.forward(in.get(0), in.get(1)), h, context);
        drop(release, h);
        h = segment(checkpoint, in -> res.forward(in.get(0), in.get(1)), a, emb);
        drop(release, a);
      }
      return h;
    }
  }

  /** {@code CrossAttnUpBlock2D} or {@code UpBlock2D}: each resnet first concatenates the newest skip (channels). */
  private static final class UpBlock {
    final List<ResnetBlock2D> resnets = new ArrayList<>();
    final List<Transformer2D> attentions = new ArrayList<>();
    Upsample2D upsampler;

    /**
     * With {@code checkpoint}: each concatenation + resnet, each transformer and the upsampler is a segment. With
     * {@code release}: the input, each skip and each intermediate output are freed once their last user ran.
     */
    Tensor forward(boolean checkpoint, boolean release, Tensor h, Tensor emb, Tensor context,
        Deque<Tensor> skips) {
      for (int j = 0; j < resnets.size(); j++) {
        ResnetBlock2D res = resnets.get(j);
        Transformer2D attn = attentions.get(j);
        Tensor skip = skips.pop();
        Tensor r = segment(checkpoint, in -> TensorScope.within(
            () -> res.forward(Tensor.cat(List.of(in.get(0), in.get(1)), 1), in.get(2))), h, skip, emb);
        drop(release, h);
        drop(release, skip);
        h = r;
        if (attn != null) {
          Tensor a = segment(checkpoint, in -> attn.forward(in.get(0), in.get(1)), h, context);
          drop(release, h);
          h = a;
        }
      }
      if (upsampler == null) return h;
      Tensor u = segment(checkpoint, in -> upsampler.forward(in.get(0)), h);
      drop(release, h);
      return u;
    }
  }
}

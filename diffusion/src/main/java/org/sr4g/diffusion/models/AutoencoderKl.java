package org.sr4g.diffusion.models;

import java.util.ArrayList;
import java.util.List;
import org.sr4g.torch.DType;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;

/**
 * diffusers {@code AutoencoderKL}: {@code encoder.*} → {@code quant_conv} → diagonal Gaussian posterior;
 * {@code post_quant_conv} → {@code decoder.*}. Fields mirror the checkpoint keys. Every GroupNorm uses eps 1e-6 (as
 * diffusers' Encoder/Decoder hard-code). Owns its parameters; encode/decode must run inside the caller's
 * {@code TensorScope}, which gets every result and temporary.
 */
public final class AutoencoderKl implements AutoCloseable {
  /** Loads, checks and lists the weights of this model. */
  public static final ModelLoader<AutoencoderKlConfig, AutoencoderKl> LOADER =
      new ModelLoader<>("VAE", AutoencoderKl::new);
  private static final double EPS = 1e-6;
  private final AutoencoderKlConfig config;
  private final Params params;
  private final DType dtype;
  private final Encoder encoder;
  private final Decoder decoder;
  private final Conv2d quantConv, postQuantConv;
  private final InferencePacking packing;

  private AutoencoderKl(AutoencoderKlConfig c, Params params, ParamLoader p) {
    this.dtype = p.dtype();
    this.config = c;
    this.params = params;
    int z = c.latentChannels();
    encoder = new Encoder(p, "encoder", c);
    decoder = new Decoder(p, "decoder", c);
    quantConv = c.useQuantConv() ? new Conv2d(p, "quant_conv", 2L * z, 2L * z, 1, 1, 0) : null;
    postQuantConv = c.usePostQuantConv() ? new Conv2d(p, "post_quant_conv", z, z, 1, 1, 0) : null;
    packing = new InferencePacking(p.convs());
  }

  public AutoencoderKlConfig config() {
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
   * Makes this VAE inference-only (sampling, the latent cache, the frozen VAE of training): parameters stop requiring
   * gradients and, on the CPU, every conv weight is packed once for oneDNN and its dense copy freed
   * ({@link InferencePacking}). Idempotent; returns what was done (or why not).
   */
  public InferencePacking packForInference() {
    return packing.apply(params);
  }

  /** The diagonal Gaussian q(z|x): mean, log-variance clamped to [-30, 20] as diffusers does, std = exp(logvar/2). */
  public record Posterior(Tensor moments, Tensor mean, Tensor logvar, Tensor std) {
    /** mean + std·noise (noise ~ N(0, 1), same shape as mean). */
    public Tensor sample(Tensor noise) {
      return mean.add(std.mul(noise));
    }
  }

  /** image [B, in_channels, H, W] in [-1, 1] → posterior over latents [B, latent_channels, H/f, W/f]. */
  public Posterior encode(Tensor image) {
    if (image.dtype() != dtype) image = image.to(dtype);
    Tensor moments = encoder.forward(image);
    if (quantConv != null) moments = quantConv.forward(moments);
    int z = config.latentChannels();
    Tensor mean = moments.slice(1, 0, z, 1);
    Tensor logvar = moments.slice(1, z, 2L * z, 1).clamp(-30.0, 20.0);
    return new Posterior(moments, mean, logvar, logvar.mul(0.5).exp());
  }

  /** latent → float32 image (the latent is cast to the parameters' dtype); no scaling_factor here (callers divide latents by {@link #scalingFactor()} first, as diffusers). */
  public Tensor decode(Tensor latent) {
    if (latent.dtype() != dtype) latent = latent.to(dtype);
    Tensor image = decoder.forward(postQuantConv != null ? postQuantConv.forward(latent) : latent);
    return dtype == DType.F32 ? image : image.to(DType.F32);
  }

  public double scalingFactor() {
    return config.scalingFactor();
  }

  @Override
  public void close() {
    if (params != null) params.close();
  }

  /** diffusers {@code UNetMidBlock2D} without time embedding: {@code resnets.0, attentions.0, resnets.1}. */
  private static final class MidBlock {
    private final ResnetBlock2D resnet0, resnet1;
    private final VaeAttention attention;

    MidBlock(ParamLoader p, String prefix, long channels, int groups, boolean addAttention) {
      resnet0 = new ResnetBlock2D(p, prefix + ".resnets.0", channels, channels, 0, groups, EPS);
      attention = addAttention ? new VaeAttention(p, prefix + ".attentions.0", channels, groups, EPS) : null;
      resnet1 = new ResnetBlock2D(p, prefix + ".resnets.1", channels, channels, 0, groups, EPS);
    }

    Tensor forward(Tensor x) {
      x = resnet0.forward(x, null);
      if (attention != null) x = attention.forward(x);
      return resnet1.forward(x, null);
    }
  }

  /** {@code encoder.conv_in, down_blocks.{i}.resnets/downsamplers, mid_block, conv_norm_out, conv_out} (2z channels). */
  private static final class Encoder {
    private final Conv2d convIn, convOut;
    private final List<List<ResnetBlock2D>> downResnets = new ArrayList<>();
    private final List<Downsample2D> downsamplers = new ArrayList<>();
    private final MidBlock midBlock;
    private final GroupNorm convNormOut;

    Encoder(ParamLoader p, String prefix, AutoencoderKlConfig c) {
      List<Integer> ch = c.blockOutChannels();
      int g = c.normNumGroups();
      convIn = new Conv2d(p, prefix + ".conv_in", c.inChannels(), ch.get(0), 3, 1, 1);
      long in = ch.get(0);
      for (int i = 0; i < ch.size(); i++) {
        String b = prefix + ".down_blocks." + i;
        long out = ch.get(i);
        List<ResnetBlock2D> rs = new ArrayList<>();
        for (int j = 0; j < c.layersPerBlock(); j++)
          rs.add(new ResnetBlock2D(p, b + ".resnets." + j, j == 0 ? in : out, out, 0, g, EPS));
        downResnets.add(rs);
        // Every block but the last halves the resolution; the encoder's Downsample2D has padding 0 (asymmetric pad).
        downsamplers.add(i < ch.size() - 1 ? new Downsample2D(p, b + ".downsamplers.0", out, 0) : null);
        in = out;
      }
      midBlock = new MidBlock(p, prefix + ".mid_block", in, g, c.midBlockAddAttention());
      convNormOut = new GroupNorm(p, prefix + ".conv_norm_out", g, in, EPS);
      convOut = new Conv2d(p, prefix + ".conv_out", in, 2L * c.latentChannels(), 3, 1, 1);
    }

    Tensor forward(Tensor x) {
      Tensor h = convIn.forward(x);
      for (int i = 0; i < downResnets.size(); i++) {
        for (ResnetBlock2D r : downResnets.get(i)) h = r.forward(h, null);
        if (downsamplers.get(i) != null) h = downsamplers.get(i).forward(h);
      }
      h = midBlock.forward(h);
      return convOut.forward(convNormOut.forward(h).silu());
    }
  }

  /** {@code decoder.conv_in, mid_block, up_blocks.{i}.resnets/upsamplers, conv_norm_out, conv_out}. */
  private static final class Decoder {
    private final Conv2d convIn, convOut;
    private final MidBlock midBlock;
    private final List<List<ResnetBlock2D>> upResnets = new ArrayList<>();
    private final List<Upsample2D> upsamplers = new ArrayList<>();
    private final GroupNorm convNormOut;

    Decoder(ParamLoader p, String prefix, AutoencoderKlConfig c) {
      List<Integer> ch = c.blockOutChannels();
      int g = c.normNumGroups(), n = ch.size();
      long top = ch.get(n - 1);
      convIn = new Conv2d(p, prefix + ".conv_in", c.latentChannels(), top, 3, 1, 1);
      midBlock = new MidBlock(p, prefix + ".mid_block", top, g, c.midBlockAddAttention());
      // up_blocks run over the channels reversed; each has layers_per_block + 1 resnets.
      long in = top;
      for (int i = 0; i < n; i++) {
        String b = prefix + ".up_blocks." + i;
        long out = ch.get(n - 1 - i);
        List<ResnetBlock2D> rs = new ArrayList<>();
        for (int j = 0; j <= c.layersPerBlock(); j++)
          rs.add(new ResnetBlock2D(p, b + ".resnets." + j, j == 0 ? in : out, out, 0, g, EPS));
        upResnets.add(rs);
        upsamplers.add(i < n - 1 ? new Upsample2D(p, b + ".upsamplers.0", out) : null);
        in = out;
      }
      convNormOut = new GroupNorm(p, prefix + ".conv_norm_out", g, in, EPS);
      convOut = new Conv2d(p, prefix + ".conv_out", in, c.outChannels(), 3, 1, 1);
    }

    Tensor forward(Tensor z) {
      Tensor h = midBlock.forward(convIn.forward(z));
      for (int i = 0; i < upResnets.size(); i++) {
        for (ResnetBlock2D r : upResnets.get(i)) h = r.forward(h, null);
        if (upsamplers.get(i) != null) h = upsamplers.get(i).forward(h);
      }
      return convOut.forward(convNormOut.forward(h).silu());
    }
  }
}

package org.sr4g.diffusion;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.AutoencoderKl;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.schedulers.Scheduler;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.BatchInvariant;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * Text-to-image sampling with classifier-free guidance, as diffusers' StableDiffusionPipeline: encode the prompt and
 * the negative prompt, start from seeded Gaussian latents × init_noise_sigma, and at every scheduler timestep run the
 * UNet once on the batch [unconditional, conditional], mix {@code ε = ε_u + g·(ε_c − ε_u)}, step; finally decode
 * {@code latents / scaling_factor} and map [-1, 1] to 8-bit RGB. Several prompts can share the UNet calls
 * ({@link #generate(List)}). For speed, load the model with {@link DiffusersModel#packForInference()}.
 */
public final class Txt2Img {
  private final DiffusersModel model;
  private final Device device;

  /**
   * @param clipSkip 1: last CLIP layer (SD 1.x), 2: penultimate (SD 2.x)
   */
  public record Request(String prompt, String negativePrompt, int width, int height, int steps, double guidance,
      long seed, int clipSkip) {}

  public Txt2Img(DiffusersModel model, Device device) {
    this.model = model;
    this.device = device;
  }

  /** Pixels per latent cell: 2^(VAE blocks − 1) (8 for SD). */
  public int vaeScaleFactor() {
    return 1 << (model.vae().config().blockOutChannels().size() - 1);
  }

  /** Image size granularity: the VAE factor times the UNet's own downsampling. */
  public int sizeMultiple() {
    return vaeScaleFactor() << (model.unet().config().blockOutChannels().size() - 1);
  }

  /** One image; see {@link #generate(List)}. */
  public BufferedImage generate(Request r) {
    return generate(List.of(r)).getFirst();
  }

  /**
   * Several images with one UNet call per timestep (batch 2B: the B unconditional, then the B conditional inputs).
   * The requests must share size, steps, guidance, clip skip and negative prompt; each keeps its prompt and seed, and
   * its image does not depend on the batch it is in (byte-identical to generating it alone on the CPU, tested): its
   * text is encoded as alone ([negative, prompt]), its initial latents and the noise a stochastic scheduler needs are
   * drawn from its own CPU generator, the UNet's matrix products run per sample ({@link BatchInvariant}: a BLAS may
   * round a row differently in a bigger product), and it is decoded alone. The latents stay on the device from the
   * first step to the decoder (the schedulers' tensor forms); each finished image is copied to the host once.
   */
  public List<BufferedImage> generate(List<Request> batch) {
    if (batch.isEmpty()) return List.of();
    Request r = batch.getFirst();
    for (Request o : batch)
      if (o.width() != r.width() || o.height() != r.height() || o.steps() != r.steps() || o.guidance() != r.guidance()
          || o.clipSkip() != r.clipSkip() || !java.util.Objects.equals(negative(o), negative(r)))
        throw new IllegalArgumentException("a batch shares size, steps, guidance, clip skip and negative prompt");
    int m = sizeMultiple();
    if (r.width() <= 0 || r.height() <= 0 || r.width() % m != 0 || r.height() % m != 0)
      throw new UserInputException("image size " + r.width() + "x" + r.height() + " must be positive multiples of " + m);
    if (r.steps() < 1) throw new UserInputException("steps must be at least 1, got " + r.steps());
    UNet2DConditionModel unet = model.unet();
    AutoencoderKl vae = model.vae();
    int b = batch.size();
    long c = unet.config().inChannels(), h = r.height() / vaeScaleFactor(), w = r.width() / vaeScaleFactor();
    long[] one = {1, c, h, w};
    List<Generator> gens = new ArrayList<>();
    try (ModeGuard ng = Autograd.noGrad();
        TensorScope run = TensorScope.open();
        Scheduler scheduler = model.newScheduler()) {
      scheduler.setTimesteps(r.steps());
      List<Tensor> uncond = new ArrayList<>(), cond = new ArrayList<>(), start = new ArrayList<>();
      for (Request q : batch) {
        // Both prompts in one batch, unconditional first (diffusers' order), exactly as for a single image.
        Tensor ids = Tensor.of(concat(model.tokenizer().tokenize(negative(q)), model.tokenizer().tokenize(q.prompt())),
            2, ClipTokenizer.CONTEXT_LENGTH).to(device);
        List<Tensor> uc = model.textEncoder().encode(ids, q.clipSkip()).chunk(2, 0);
        uncond.add(uc.get(0));
        cond.add(uc.get(1));
        // Noise drawn on the CPU from the image's seed: the same image on every device and in every batch.
        Generator g = new Generator(Device.CPU, q.seed());
        gens.add(g);
        start.add(Tensor.randn(g, DType.F32, one));
      }
      List<Tensor> contexts = new ArrayList<>(uncond);
      contexts.addAll(cond);
      Tensor context = Tensor.cat(contexts, 0);
      Tensor latents = Tensor.cat(start, 0).mul(scheduler.initNoiseSigma()).to(device);
      for (float t : scheduler.timesteps()) {
        try (TensorScope step = TensorScope.open()) {
          Tensor x = scheduler.scaleModelInput(latents, t);
          Tensor in = Tensor.cat(List.of(x, x), 0), time = Tensor.of(new float[] {t}, 1).to(device);
          Tensor eps = BatchInvariant.call(() -> unet.forward(in, time, context));
          List<Tensor> uc = eps.chunk(2, 0);
          Tensor guided = uc.get(0).add(uc.get(1).sub(uc.get(0)).mul(r.guidance()));
          Tensor noise = scheduler.needsNoise(t) ? noise(gens, one) : null;
          Tensor next = step.keep(scheduler.step(guided, t, latents, noise));
          latents.close();
          latents = next;
        }
      }
      List<BufferedImage> images = new ArrayList<>(b);
      for (int i = 0; i < b; i++) {
        try (TensorScope img = TensorScope.open()) {
          Tensor z = latents.slice(0, i, i + 1, 1).div(vae.scalingFactor());
          Tensor pixels = vae.decode(z).div(2).add(0.5).clamp(0, 1).to(Device.CPU); // the image's one host copy
          images.add(toImage(pixels.contiguous().toFloatArray(), r.width(), r.height()));
        }
      }
      return images;
    } finally {
      for (Generator g : gens) g.close();
    }
  }

  private static String negative(Request r) {
    return r.negativePrompt() == null ? "" : r.negativePrompt();
  }

  /** One unit Gaussian draw per image from its own generator, on the device of the latents. */
  private Tensor noise(List<Generator> gens, long[] one) {
    List<Tensor> parts = new ArrayList<>();
    for (Generator g : gens) parts.add(Tensor.randn(g, DType.F32, one));
    return Tensor.cat(parts, 0).to(device);
  }

  private static long[] concat(long[] a, long[] b) {
    long[] r = new long[a.length + b.length];
    System.arraycopy(a, 0, r, 0, a.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  /** [1, 3, H, W] in [0, 1] → RGB, rounded as diffusers' numpy_to_pil ({@code (x * 255).round()}). */
  static BufferedImage toImage(float[] chw, int width, int height) {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    int plane = width * height;
    for (int y = 0; y < height; y++)
      for (int x = 0; x < width; x++) {
        int i = y * width + x;
        int rr = Math.round(chw[i] * 255f), gg = Math.round(chw[plane + i] * 255f), bb = Math.round(chw[2 * plane + i] * 255f);
        img.setRGB(x, y, (rr << 16) | (gg << 8) | bb);
      }
    return img;
  }
}

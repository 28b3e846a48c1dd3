package org.sr4g.diffusion;

import java.awt.image.BufferedImage;
import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.AutoencoderKl;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.schedulers.Scheduler;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;
import org.sr4g.torch.Autograd;
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
 * {@code latents / scaling_factor} and map [-1, 1] to 8-bit RGB.
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

  public BufferedImage generate(Request r) {
    int m = sizeMultiple();
    if (r.width() <= 0 || r.height() <= 0 || r.width() % m != 0 || r.height() % m != 0)
      throw new UserInputException("image size " + r.width() + "x" + r.height() + " must be positive multiples of " + m);
    if (r.steps() < 1) throw new UserInputException("steps must be at least 1, got " + r.steps());
    UNet2DConditionModel unet = model.unet();
    AutoencoderKl vae = model.vae();
    Scheduler scheduler = model.newScheduler();
    scheduler.setTimesteps(r.steps());
    long c = unet.config().inChannels(), h = r.height() / vaeScaleFactor(), w = r.width() / vaeScaleFactor();
    long[] shape = {1, c, h, w};
    try (ModeGuard ng = Autograd.noGrad();
        TensorScope run = TensorScope.open();
        Generator gen = new Generator(Device.CPU, r.seed())) {
      // Both prompts in one batch, unconditional first (diffusers' order).
      Tensor ids = Tensor.of(concat(model.tokenizer().tokenize(r.negativePrompt() == null ? "" : r.negativePrompt()),
          model.tokenizer().tokenize(r.prompt())), 2, ClipTokenizer.CONTEXT_LENGTH).to(device);
      Tensor context = model.textEncoder().encode(ids, r.clipSkip());
      // Noise drawn on the CPU from one seed: the same image on every device.
      float[] latents = Tensor.randn(gen, DType.F32, shape).mul(scheduler.initNoiseSigma()).toFloatArray();
      for (float t : scheduler.timesteps()) {
        try (TensorScope step = TensorScope.open()) {
          Tensor x = Tensor.of(scheduler.scaleModelInput(latents, t), shape).to(device);
          Tensor eps = unet.forward(Tensor.cat(List.of(x, x), 0), Tensor.of(new float[] {t}, 1).to(device), context);
          List<Tensor> uc = eps.chunk(2, 0);
          Tensor guided = uc.get(0).add(uc.get(1).sub(uc.get(0)).mul(r.guidance()));
          float[] noise = Tensor.randn(gen, DType.F32, shape).toFloatArray(); // used by stochastic schedulers only
          latents = scheduler.step(guided.to(Device.CPU).toFloatArray(), t, latents, noise).prevSample();
        }
      }
      Tensor z = Tensor.of(latents, shape).to(device).div(vae.scalingFactor());
      Tensor image = vae.decode(z).div(2).add(0.5).clamp(0, 1).to(Device.CPU);
      return toImage(image.contiguous().toFloatArray(), r.width(), r.height());
    }
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

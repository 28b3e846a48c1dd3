package org.sr4g.diffusion.training;

import java.util.List;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;
import org.sr4g.diffusion.training.distributed.DistributedTraining;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;

/**
 * Latents from the images ({@link DataLoader}) through the frozen VAE (a posterior sample × scaling_factor, under
 * no-grad), the context from the tokenized captions through the text encoder: frozen under no-grad in its stored
 * dtype, or trained inside the step's graph under the step's autocast, as accelerate runs it.
 */
final class VaeLatentSource implements LatentSource {
  private final DataLoader data;
  private final DiffusersModel m;
  private final Device dev;
  private final DType vaeDtype;
  private final boolean trainTextEncoder;
  private final MixedPrecision mp;
  private final DistributedTraining dist;
  private final int res;
  private DataLoader.Batch batch;
  private int size;
  private long position;

  VaeLatentSource(DataLoader data, long position, DiffusersModel m, Device dev, DType vaeDtype,
      boolean trainTextEncoder, MixedPrecision mp, DistributedTraining dist, int res) {
    this.data = data;
    this.position = position;
    this.m = m;
    this.dev = dev;
    this.vaeDtype = vaeDtype;
    this.trainTextEncoder = trainTextEncoder;
    this.mp = mp;
    this.dist = dist;
    this.res = res;
  }

  @Override
  public void take(int b) {
    batch = data.next(b);
    size = b;
    position = batch.nextPosition();
  }

  @Override
  @SuppressWarnings("try")
  public Encoded encode(Generator gen, boolean[] drop) {
    int b = size;
    Tensor latents, context;
    try (ModeGuard ng = Autograd.noGrad()) {
      Tensor pixels = Tensor.of(batch.pixels(), b, 3, res, res).to(dev);
      var posterior = m.vae().encode(pixels);
      // Posterior noise on the CPU generator: the same latents on every device. A VAE in the mixed-precision dtype
      // gives mean and std in it: back to float32 before sampling.
      Tensor eps = dist.randn(gen, posterior.mean().shape()).to(dev);
      latents = vaeDtype == DType.F32 ? posterior.sample(eps)
          : posterior.mean().to(DType.F32).add(posterior.std().to(DType.F32).mul(eps));
      latents = latents.mul(m.vae().scalingFactor());
    }
    long[] ids = new long[b * ClipTokenizer.CONTEXT_LENGTH];
    for (int i = 0; i < b; i++)
      System.arraycopy(m.tokenizer().tokenize(drop[i] ? "" : batch.captions().get(i)), 0, ids,
          i * ClipTokenizer.CONTEXT_LENGTH, ClipTokenizer.CONTEXT_LENGTH);
    // A frozen encoder runs under no-grad in its stored dtype; a trained one in the graph, under autocast (null: no guard).
    try (ModeGuard ng = trainTextEncoder ? null : Autograd.noGrad();
        ModeGuard ac = trainTextEncoder ? mp.autocast(dev) : null) {
      context = m.textEncoder().encode(Tensor.of(ids, b, ClipTokenizer.CONTEXT_LENGTH).to(dev), 1);
    }
    if (context.dtype() != DType.F32) context = context.to(DType.F32); // bf16/fp16 encoder output
    return new Encoded(latents, context);
  }

  @Override
  public long position() {
    return position;
  }

  @Override
  public long waitNanos() {
    return data.dataWaitNanos();
  }

  @Override
  public long skips() {
    return data.skips();
  }

  @Override
  public List<String> skippedFiles() {
    return data.skippedFiles();
  }

  @Override
  public void close() {
    data.close();
  }
}

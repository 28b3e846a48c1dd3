package org.sr4g.diffusion.training;

import java.util.List;
import org.sr4g.diffusion.training.distributed.DistributedTraining;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;

/**
 * Latents and caption embeddings from a {@link LatentCache}: the posterior sample {@code (mean + std·ε) ×
 * scaling_factor} with {@code ε} drawn where {@link VaeLatentSource} draws it, and the stored embeddings (a dropped
 * caption gets the empty prompt's, encoded once at the start), so no VAE or text-encoder forward runs.
 */
final class CachedLatentSource implements LatentSource {
  private final LatentCache cache;
  private final LatentCache.Stream stream;
  private final float[] emptyEmbedding;
  private final double scalingFactor;
  private final Device dev;
  private final DistributedTraining dist;
  private long[] positions = new long[0];
  private long position;

  /** {@code emptyEmbedding}: the empty prompt's context (null without caption dropout). */
  CachedLatentSource(LatentCache cache, long seed, long position, float[] emptyEmbedding, double scalingFactor,
      Device dev, DistributedTraining dist) {
    this.cache = cache;
    this.stream = cache.new Stream(seed);
    this.position = position;
    this.emptyEmbedding = emptyEmbedding;
    this.scalingFactor = scalingFactor;
    this.dev = dev;
    this.dist = dist;
  }

  @Override
  public void take(int b) {
    positions = new long[b];
    for (int i = 0; i < b; i++) positions[i] = position++;
  }

  @Override
  @SuppressWarnings("try")
  public Encoded encode(Generator gen, boolean[] drop) {
    int b = positions.length;
    long[] ls = cache.latentShape(), es = cache.embeddingShape();
    int per = (int) (ls[0] * ls[1] * ls[2]), perE = (int) (es[0] * es[1]);
    float[] mean = new float[b * per], std = new float[b * per], emb = new float[b * perE];
    for (int i = 0; i < b; i++) {
      LatentCache.Sample smp = stream.at(dist.globalPosition(positions[i]));
      System.arraycopy(cache.mean(smp.image()), 0, mean, i * per, per);
      System.arraycopy(cache.std(smp.image()), 0, std, i * per, per);
      System.arraycopy(drop[i] ? emptyEmbedding : cache.embedding(smp.caption()), 0, emb, i * perE, perE);
    }
    long[] shape = {b, ls[0], ls[1], ls[2]};
    try (ModeGuard ng = Autograd.noGrad()) {
      Tensor eps = dist.randn(gen, shape).to(dev);
      Tensor latents = Tensor.of(mean, shape).to(dev).add(Tensor.of(std, shape).to(dev).mul(eps)).mul(scalingFactor);
      return new Encoded(latents, Tensor.of(emb, b, es[0], es[1]).to(dev));
    }
  }

  @Override
  public long position() {
    return position;
  }

  @Override
  public long waitNanos() {
    return 0;
  }

  @Override
  public long skips() {
    return 0;
  }

  @Override
  public List<String> skippedFiles() {
    return List.of();
  }

  @Override
  public void close() {
    cache.close();
  }
}

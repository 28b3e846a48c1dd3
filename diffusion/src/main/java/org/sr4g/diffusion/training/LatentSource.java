package org.sr4g.diffusion.training;

import java.util.List;
import org.sr4g.torch.Generator;
import org.sr4g.torch.Tensor;

/**
 * Where a micro-batch's latents and text conditioning come from: the images through the frozen VAE and text encoder
 * ({@link VaeLatentSource}), or a {@code sr4g cache} folder ({@link CachedLatentSource}). Both give the same examples,
 * posterior noise and drop decisions for the same stream positions, so a run does not depend on which one it uses
 * beyond the VAE's batch composition.
 */
interface LatentSource extends AutoCloseable {
  /** The latents ({@code [B, C, h, w]}, float32, × the VAE's scaling factor) and the text context, on the device. */
  record Encoded(Tensor latents, Tensor context) {}

  /** Takes the next {@code batch} examples of this rank's stream (before the micro-batch's tensor scope opens). */
  void take(int batch);

  /**
   * The taken examples encoded in the caller's tensor scope: the posterior sample with its noise drawn from
   * {@code gen} (first, before any other draw of the micro-batch), and the context with {@code dropped[i]}'s caption
   * replaced by the empty prompt.
   */
  Encoded encode(Generator gen, boolean[] dropped);

  /** This rank's next stream position (a checkpoint's data cursor). */
  long position();

  /** Time the training thread waited for examples so far. */
  long waitNanos();

  /** Unreadable or missing images skipped so far (none from a cache), and their names. */
  long skips();

  List<String> skippedFiles();

  @Override
  void close();
}

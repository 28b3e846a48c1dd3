package org.sr4g.cli;

import java.nio.file.Path;
import org.sr4g.diffusion.training.TrainData.CaptionSampling;
import org.sr4g.diffusion.training.TrainOptions;
import picocli.CommandLine.Option;

/**
 * {@code sr4g train}'s data options (a picocli mixin): the examples' size, crop, flip and captions, and the image
 * loader. Where the examples come from ({@code --data}/{@code --images} or {@code --cache}) is {@link TrainCommand}'s
 * exclusive group.
 */
final class TrainDataOptions {
  @Option(names = "--resolution", paramLabel = "PX",
      description = "square training size (default: the model's sample_size x VAE factor, 512 for SD 1.5; with --cache the cache's)")
  Integer resolution;
  @Option(names = "--random-crop", description = "random instead of centre crop (default: centre)") boolean randomCrop;
  @Option(names = {"--random-flip", "--random_flip"},
      description = "mirror half the images, rewriting left/right in their captions (default: no flip)") boolean randomFlip;
  @Option(names = "--caption-sampling", defaultValue = "per-pair", paramLabel = "per-pair|per-image",
      converter = CaptionSamplingConverter.class,
      description = "per-pair: one example per row; per-image: one per image, its caption drawn from the image's rows"
          + " (default: ${DEFAULT-VALUE})") CaptionSampling captionSampling;
  @Option(names = {"--caption-dropout", "--proportion_empty_prompts"}, defaultValue = "0", paramLabel = "P",
      description = "replace each caption by the empty prompt with probability P, for classifier-free guidance"
          + " (diffusers' --proportion_empty_prompts); 0: off (default: ${DEFAULT-VALUE})") double captionDropout;
  @Option(names = {"--workers", "--dataloader_num_workers"}, defaultValue = "2", paramLabel = "N",
      description = "image decoding threads (default: ${DEFAULT-VALUE})") int workers;
  @Option(names = "--prefetch", defaultValue = "8", paramLabel = "N",
      description = "examples decoded ahead (default: ${DEFAULT-VALUE})") int prefetch;
  @Option(names = "--max-image-pixels", defaultValue = "89478485", paramLabel = "N",
      description = "refuse images of more pixels, read from their header before decoding (decompression bombs;"
          + " Pillow's limit; default: ${DEFAULT-VALUE})") long maxImagePixels;

  void applyTo(TrainOptions o) {
    o.resolution = resolution == null ? 0 : resolution;
    o.randomCrop = randomCrop;
    o.randomFlip = randomFlip;
    o.captionSampling = captionSampling;
    o.captionDropout = captionDropout;
    o.workers = workers;
    o.prefetch = prefetch;
    o.maxImagePixels = maxImagePixels;
  }

  /** The option's own names ({@code per-pair}), with the trainer's message for anything else. */
  static final class CaptionSamplingConverter extends ParsingConverter<CaptionSampling> {
    @Override
    CaptionSampling parse(String s) {
      return CaptionSampling.parse(s);
    }
  }
}

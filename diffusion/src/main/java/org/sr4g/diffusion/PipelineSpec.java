package org.sr4g.diffusion;

import java.nio.file.Path;
import org.sr4g.diffusion.models.AutoencoderKlConfig;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.schedulers.SchedulerConfig;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;

/**
 * What a pipeline is made of, read and checked: the component configs and the tokenizer — everything a
 * {@link ModelSource} holds but the weights. A source builds it once when it opens; a decorator passes it on whole.
 *
 * @param tokenizerDir the folder of the tokenizer's files ({@code vocab.json}, {@code merges.txt}, …)
 */
public record PipelineSpec(UNetConfig unet, AutoencoderKlConfig vae, ClipTextConfig textEncoder,
    SchedulerConfig scheduler, ClipTokenizer tokenizer, Path tokenizerDir) {}

package org.sr4g.diffusion;

import java.util.ArrayList;
import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.models.AutoencoderKlConfig;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;

/**
 * Load-time checks that the parts of a model fit together; each component may be valid on its own and still crash
 * (or silently produce noise) beside the others. Every problem is one line naming both sides:
 *
 * <ul>
 *   <li>the tokenizer's vocabulary vs the text encoder's token embeddings ({@code vocab_size}): a token id past the
 *       table is libtorch's "index out of range in self" in the middle of sampling; and its 77-token context vs
 *       {@code max_position_embeddings};
 *   <li>the text encoder's {@code hidden_size} vs the UNet's {@code cross_attention_dim};
 *   <li>the VAE's {@code latent_channels} vs the UNet's {@code in_channels} / {@code out_channels};
 *   <li>the scheduler's {@code prediction_type} vs the one the weights declare (checkpoint or LoRA metadata such as
 *       {@code modelspec.prediction_type}): an epsilon sampler on a v-prediction model gives brown noise.
 * </ul>
 */
public final class ModelChecks {
  private ModelChecks() {}

  /** Every problem of {@code s}; empty when its parts fit. */
  public static List<String> problems(ModelSource s) {
    List<String> out = new ArrayList<>();
    tokenizer(out, s.tokenizer(), s.origin(Part.TOKENIZER), s.textEncoderConfig(), s.origin(Part.TEXT_ENCODER));
    configs(out, s.textEncoderConfig(), s.origin(Part.TEXT_ENCODER), s.unetConfig(), s.origin(Part.UNET),
        s.vaeConfig(), s.origin(Part.VAE));
    prediction(out, s.schedulerConfig().predictionType(), s.origin(Part.SCHEDULER), s.declaredPredictionType(),
        s.declaredPredictionOrigin());
    return out;
  }

  /** Throws one {@link UserInputException} (one line) listing every problem of {@code s}, if any. */
  public static void require(ModelSource s) {
    List<String> p = problems(s);
    if (!p.isEmpty()) throw new UserInputException(String.join("; ", p));
  }

  static void tokenizer(List<String> out, ClipTokenizer tok, String tokOrigin, ClipTextConfig text, String textOrigin) {
    if (tok.vocabSize() > text.vocabSize())
      out.add(tokOrigin + " has " + tok.vocabSize() + " tokens but " + textOrigin + " has vocab_size " + text.vocabSize()
          + ": token ids from " + text.vocabSize() + " on have no embedding (tokenizer and text encoder of different models?)");
    if (text.maxPositions() < ClipTokenizer.CONTEXT_LENGTH)
      out.add(textOrigin + " has max_position_embeddings " + text.maxPositions() + " but " + tokOrigin
          + " makes " + ClipTokenizer.CONTEXT_LENGTH + "-token sequences");
  }

  /** The checks between configs only (also run by {@link ModelFolder#problems()}, before any weight is read). */
  static void configs(List<String> out, ClipTextConfig text, String textOrigin, UNetConfig unet, String unetOrigin,
      AutoencoderKlConfig vae, String vaeOrigin) {
    if (text != null && unet != null && text.hiddenSize() != unet.crossAttentionDim())
      out.add(textOrigin + " has hidden_size " + text.hiddenSize() + " but " + unetOrigin + " has cross_attention_dim "
          + unet.crossAttentionDim() + " (text encoder and UNet of different models?)");
    if (vae != null && unet != null && (vae.latentChannels() != unet.inChannels() || vae.latentChannels() != unet.outChannels()))
      out.add(vaeOrigin + " has latent_channels " + vae.latentChannels() + " but " + unetOrigin + " has in_channels "
          + unet.inChannels() + " and out_channels " + unet.outChannels());
  }

  static void prediction(List<String> out, String scheduler, String schedulerOrigin, String declared,
      String declaredOrigin) {
    if (declared != null && !declared.equals(scheduler))
      out.add(schedulerOrigin + " has prediction_type " + scheduler + " but " + declaredOrigin + " declares "
          + declared + " (sampling with the wrong one gives noise)");
  }
}

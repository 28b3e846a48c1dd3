package org.sr4g.diffusion;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.sr4g.diffusion.models.AutoencoderKlConfig;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.models.Weights;
import org.sr4g.diffusion.schedulers.SchedulerConfig;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;

/**
 * Everything a Stable Diffusion pipeline is built from, wherever it is stored: the component configs, the tokenizer
 * and, per network, its weights under diffusers key names. A diffusers folder ({@link FolderSource}), a single-file
 * LDM checkpoint converted on the fly ({@code singlefile.SingleFileSource}) and a model with LoRA files merged in
 * ({@code lora.LoraSource}) are all sources; {@link DiffusersModel#load(ModelSource, org.sr4g.torch.Device,
 * org.sr4g.torch.DType, org.sr4g.torch.DType, org.sr4g.torch.DType)} loads any of them after
 * {@link ModelChecks} has checked that the parts fit together. The source owns what it opened (files, mappings) until
 * {@link #close()}; the {@link Weights} it hands out are valid until then.
 */
public interface ModelSource extends AutoCloseable {

  /** The parts of a pipeline, with their folder and main file in the diffusers layout. */
  enum Part {
    UNET("unet", "config.json"),
    VAE("vae", "config.json"),
    TEXT_ENCODER("text_encoder", "config.json"),
    TOKENIZER("tokenizer", "vocab.json"),
    SCHEDULER("scheduler", "scheduler_config.json");

    public final String folder;
    public final String file;

    Part(String folder, String file) {
      this.folder = folder;
      this.file = file;
    }
  }

  /** What the user named (a folder, a file, a hub id), for messages. */
  String name();

  /** Where {@code part}'s config (the tokenizer's vocabulary) comes from, for messages: a file or a description. */
  String origin(Part part);

  /** The config of {@code part} as diffusers stores it (not for {@link Part#TOKENIZER}); writers copy it as it is. */
  JsonNode config(Part part);

  /** The component configs and the tokenizer, read and checked when the source was opened. */
  PipelineSpec spec();

  default UNetConfig unetConfig() {
    return spec().unet();
  }

  default AutoencoderKlConfig vaeConfig() {
    return spec().vae();
  }

  default ClipTextConfig textEncoderConfig() {
    return spec().textEncoder();
  }

  default SchedulerConfig schedulerConfig() {
    return spec().scheduler();
  }

  default ClipTokenizer tokenizer() {
    return spec().tokenizer();
  }

  /** A folder with the tokenizer's files ({@code vocab.json}, {@code merges.txt}, maybe {@code special_tokens_map.json}). */
  default Path tokenizerDir() {
    return spec().tokenizerDir();
  }

  /** The weights of {@link Part#UNET}, {@link Part#VAE} or {@link Part#TEXT_ENCODER}, under diffusers key names. */
  Weights weights(Part part);

  /**
   * The prediction type the weights themselves declare (e.g. a checkpoint's {@code modelspec.prediction_type}
   * metadata, normalised to {@code epsilon} / {@code v_prediction}), or null when they say nothing; checked against
   * the scheduler's by {@link ModelChecks}.
   */
  default String declaredPredictionType() {
    return null;
  }

  /** Where {@link #declaredPredictionType()} comes from, for messages. */
  default String declaredPredictionOrigin() {
    return name();
  }

  @Override
  void close();
}

package org.sr4g.diffusion;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.sr4g.diffusion.models.AutoencoderKlConfig;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.models.Weights;
import org.sr4g.diffusion.schedulers.SchedulerConfig;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;

/** A {@link ModelSource} that passes everything to another; decorators (LoRA) override what they change. */
public abstract class ForwardingSource implements ModelSource {
  protected final ModelSource base;

  protected ForwardingSource(ModelSource base) {
    this.base = base;
  }

  @Override
  public String name() {
    return base.name();
  }

  @Override
  public String origin(Part part) {
    return base.origin(part);
  }

  @Override
  public JsonNode config(Part part) {
    return base.config(part);
  }

  @Override
  public UNetConfig unetConfig() {
    return base.unetConfig();
  }

  @Override
  public AutoencoderKlConfig vaeConfig() {
    return base.vaeConfig();
  }

  @Override
  public ClipTextConfig textEncoderConfig() {
    return base.textEncoderConfig();
  }

  @Override
  public SchedulerConfig schedulerConfig() {
    return base.schedulerConfig();
  }

  @Override
  public ClipTokenizer tokenizer() {
    return base.tokenizer();
  }

  @Override
  public Path tokenizerDir() {
    return base.tokenizerDir();
  }

  @Override
  public Weights weights(Part part) {
    return base.weights(part);
  }

  @Override
  public String declaredPredictionType() {
    return base.declaredPredictionType();
  }

  @Override
  public String declaredPredictionOrigin() {
    return base.declaredPredictionOrigin();
  }

  /** Closes the base source too. */
  @Override
  public void close() {
    base.close();
  }
}

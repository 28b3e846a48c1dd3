package org.sr4g.diffusion;

import com.fasterxml.jackson.databind.JsonNode;
import org.sr4g.diffusion.models.Weights;

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
  public PipelineSpec spec() {
    return base.spec();
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

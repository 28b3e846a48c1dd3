package org.sr4g.diffusion.lora;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sr4g.diffusion.models.Weights;
import org.sr4g.torch.Tensor;

/**
 * Weights with LoRA merged in: {@code W + Σ s·α/r·B·A} for each adapted layer's weight, computed in float32 when the
 * weight is loaded; every other tensor, and every weight whose adapters all have factor 0 (scale 0), is the base's
 * tensor unchanged, bit for bit.
 */
final class MergedWeights implements Weights {
  private final Weights base;
  private final Map<String, List<LoraAdapter>> byModule;

  MergedWeights(Weights base, Map<String, List<LoraAdapter>> byModule) {
    this.base = base;
    this.byModule = byModule;
  }

  @Override
  public Set<String> keys() {
    return base.keys();
  }

  @Override
  public long[] shape(String key) {
    return base.shape(key);
  }

  @Override
  public String source() {
    return base.source() + " + LoRA";
  }

  @Override
  public Tensor loadF32(String key) {
    Tensor w = base.loadF32(key);
    if (!key.endsWith(".weight")) return w;
    List<LoraAdapter> adapters = byModule.get(key.substring(0, key.length() - ".weight".length()));
    if (adapters == null) return w;
    for (LoraAdapter a : adapters) if (a.factor() != 0) w = w.add(a.delta(w.shape()));
    return w;
  }
}

package org.sr4g.diffusion.models;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.sr4g.torch.DType;
import org.sr4g.torch.Tensor;

/** Weights held in memory (tests, randomly initialised models). The map's tensors stay owned by whoever made them. */
public final class MapWeights implements Weights {
  private final Map<String, Tensor> byKey;

  public MapWeights(Map<String, Tensor> byKey) {
    this.byKey = Collections.unmodifiableMap(new LinkedHashMap<>(byKey));
  }

  @Override
  public Set<String> keys() {
    return byKey.keySet();
  }

  @Override
  public String source() {
    return "in-memory weights";
  }

  @Override
  public long[] shape(String key) {
    return get(key).shape();
  }

  @Override
  public Tensor loadF32(String key) {
    // to() returns a new handle even when the dtype already matches, so the caller always owns what it gets.
    return get(key).to(DType.F32).copy();
  }

  private Tensor get(String key) {
    Tensor t = byKey.get(key);
    if (t == null) throw new IllegalArgumentException("no tensor " + key);
    return t;
  }
}

package org.sr4g.diffusion.models;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * Weights made up on demand from a seed: norm scales 1, everything else N(0, 0.05²) (the rule of
 * {@code RandomModelFolder}), drawn by libtorch's CPU generator in key order, so the same seed and shapes always give
 * the same tensors. Nothing is held in memory beyond the shapes: for benchmarks of full-size models without a checkpoint.
 */
public final class RandomWeights implements Weights, AutoCloseable {
  private final Map<String, long[]> shapes;
  private final Generator gen;

  public RandomWeights(Map<String, long[]> shapes, long seed) {
    this.shapes = new LinkedHashMap<>(shapes);
    this.gen = new Generator(Device.CPU, seed);
  }

  @Override
  public Set<String> keys() {
    return shapes.keySet();
  }

  @Override
  public long[] shape(String key) {
    return shapes.get(key).clone();
  }

  @Override
  public String source() {
    return "random weights";
  }

  @Override
  public Tensor loadF32(String key) {
    long[] s = shapes.get(key);
    if (key.matches(".*norm[^.]*\\.weight")) return Tensor.ones(DType.F32, Device.CPU, s);
    try (TensorScope scope = TensorScope.open()) {
      return scope.keep(Tensor.randn(gen, DType.F32, s).mul(0.05));
    }
  }

  @Override
  public void close() {
    gen.close();
  }
}

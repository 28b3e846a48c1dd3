package org.sr4g.diffusion.singlefile;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sr4g.diffusion.models.Weights;
import org.sr4g.torch.Tensor;

/**
 * One network's weights under diffusers names, read from an LDM checkpoint's tensors: each diffusers key points to
 * an LDM key, optionally a third of its rows (OpenCLIP's fused q/k/v) or squeezed to two dimensions (the VAE's 1×1
 * attention convolutions). Shapes are derived from the file's header, so a wrong checkpoint is reported before any
 * data is read; data is converted only when {@link #loadF32} asks for it.
 */
final class LdmWeights implements Weights {
  /** Where one diffusers parameter comes from. */
  record Source(String ldmKey, int third, boolean squeeze) {}

  private final Weights raw;
  private final String source;
  private final Map<String, Source> byKey;

  LdmWeights(Weights raw, String source, Map<String, Source> byKey) {
    this.raw = raw;
    this.source = source;
    this.byKey = Collections.unmodifiableMap(new LinkedHashMap<>(byKey));
  }

  /** The LDM keys this view reads. */
  List<String> ldmKeys() {
    return byKey.values().stream().map(Source::ldmKey).distinct().toList();
  }

  @Override
  public Set<String> keys() {
    return byKey.keySet();
  }

  @Override
  public long[] shape(String key) {
    Source s = need(key);
    long[] shape = raw.shape(s.ldmKey());
    if (s.third() >= 0 && shape.length > 0) shape[0] /= 3;
    if (s.squeeze() && shape.length > 2 && Arrays.stream(shape, 2, shape.length).allMatch(d -> d == 1))
      shape = new long[] {shape[0], shape[1]};
    return shape;
  }

  @Override
  public String source() {
    return source;
  }

  @Override
  public Tensor loadF32(String key) {
    Source s = need(key);
    Tensor t = raw.loadF32(s.ldmKey());
    if (s.third() >= 0) {
      long rows = t.size(0) / 3;
      t = t.slice(0, s.third() * rows, (s.third() + 1) * rows, 1).contiguous();
    }
    long[] want = shape(key);
    return Arrays.equals(t.shape(), want) ? t : t.reshape(want);
  }

  private Source need(String key) {
    Source s = byKey.get(key);
    if (s == null) throw new IllegalArgumentException("no tensor " + key);
    return s;
  }
}

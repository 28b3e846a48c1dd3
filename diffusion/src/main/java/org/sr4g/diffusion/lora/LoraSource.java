package org.sr4g.diffusion.lora;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.ForwardingSource;
import org.sr4g.diffusion.ModelSource;
import org.sr4g.diffusion.models.LayerAdapter;
import org.sr4g.diffusion.models.Weights;
import org.sr4g.torch.Tensor;

/**
 * A model with LoRA files applied ({@code sr4g sample --lora FILE[:SCALE]}, {@code sr4g lora merge}): the UNet's and
 * text encoder's weights read through {@link MergedWeights}, which adds every adapter's {@code s·α/r·B·A} to its
 * layer's weight as it is loaded (float32, before any cast to the model's dtype); several files add up. The same
 * adapters can instead be attached to the layers at run time ({@link #adapters}), which is what training will do.
 * Each file's declared prediction type is checked against the model's scheduler (by {@code ModelChecks}).
 */
public final class LoraSource extends ForwardingSource {
  /** One {@code --lora} value: a file and its scale (default 1). */
  public record Spec(Path file, double scale) {
    /** {@code FILE} or {@code FILE:SCALE} (the scale after the last colon, when it is a number). */
    public static Spec parse(String value) {
      int c = value.lastIndexOf(':');
      if (c > 0) {
        try {
          double s = Double.parseDouble(value.substring(c + 1));
          if (!Double.isFinite(s)) throw new UserInputException("--lora " + value + ": the scale must be a finite number");
          return new Spec(Path.of(value.substring(0, c)), s);
        } catch (NumberFormatException notAScale) {
          // a colon in the file name
        }
      }
      return new Spec(Path.of(value), 1.0);
    }
  }

  private final List<LoraFile> files = new ArrayList<>();
  private final Map<Part, Map<String, List<LoraAdapter>>> byLayer = new EnumMap<>(Part.class);
  private final Map<Part, Weights> merged = new EnumMap<>(Part.class);

  private LoraSource(ModelSource base) {
    super(base);
  }

  /** Reads every file against {@code base}'s layers; the result owns {@code base} (closing it closes both). */
  public static LoraSource open(ModelSource base, List<Spec> specs) {
    LoraSource s = new LoraSource(base);
    try {
      LoraTargets targets = LoraTargets.of(base.unetConfig(), base.textEncoderConfig());
      for (Spec spec : specs) {
        LoraFile f = LoraFile.read(spec.file(), targets);
        s.files.add(f);
        List<LoraAdapter> adapters = f.adapters(spec.scale());
        for (int i = 0; i < adapters.size(); i++)
          s.byLayer.computeIfAbsent(f.entries().get(i).part(), p -> new LinkedHashMap<>())
              .computeIfAbsent(adapters.get(i).module(), m -> new ArrayList<>()).add(adapters.get(i));
      }
      for (Part p : new Part[] {Part.UNET, Part.TEXT_ENCODER})
        s.merged.put(p, new MergedWeights(base.weights(p), s.byLayer.getOrDefault(p, Map.of())));
      return s;
    } catch (RuntimeException e) {
      s.closeAdapters();
      throw e;
    }
  }

  /** The files, in the order given. */
  public List<LoraFile> files() {
    return List.copyOf(files);
  }

  /** Run-time adapters of {@code part} by module (several files on one layer add up), for loading with them attached. */
  public Map<String, LayerAdapter> adapters(Part part) {
    Map<String, LayerAdapter> out = new LinkedHashMap<>();
    byLayer.getOrDefault(part, Map.of()).forEach((m, list) -> out.put(m, list.size() == 1 ? list.get(0) : new Sum(list)));
    return out;
  }

  @Override
  public String name() {
    StringBuilder b = new StringBuilder(base.name());
    for (LoraFile f : files) b.append(" + ").append(f.path().getFileName());
    return b.toString();
  }

  @Override
  public Weights weights(Part part) {
    Weights w = merged.get(part);
    return w != null ? w : base.weights(part);
  }

  @Override
  public String declaredPredictionType() {
    for (LoraFile f : files) if (f.declaredPredictionType() != null) return f.declaredPredictionType();
    return base.declaredPredictionType();
  }

  @Override
  public String declaredPredictionOrigin() {
    for (LoraFile f : files)
      if (f.declaredPredictionType() != null) return "the LoRA file " + f.path() + " (its metadata)";
    return base.declaredPredictionOrigin();
  }

  @Override
  public void close() {
    closeAdapters();
    base.close();
  }

  private void closeAdapters() {
    byLayer.values().forEach(m -> m.values().forEach(l -> l.forEach(LoraAdapter::close)));
    byLayer.clear();
  }

  /** Several adapters on one layer. */
  private record Sum(List<LoraAdapter> parts) implements LayerAdapter {
    @Override
    public Tensor linear(Tensor x) {
      Tensor y = parts.get(0).linear(x);
      for (int i = 1; i < parts.size(); i++) y = y.add(parts.get(i).linear(x));
      return y;
    }

    @Override
    public Tensor conv(Tensor x, int stride, int padding) {
      Tensor y = parts.get(0).conv(x, stride, padding);
      for (int i = 1; i < parts.size(); i++) y = y.add(parts.get(i).conv(x, stride, padding));
      return y;
    }
  }
}

package org.sr4g.diffusion.models;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.sr4g.UserInputException;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * Hands checkpoint tensors to the modules that ask for them by key and expected shape, and collects every mismatch
 * (missing, wrong shape, unexpected) so that one error names all the bad keys. After the first problem nothing more is
 * loaded (the model is unusable anyway) but every remaining key is still checked. In check-only mode nothing is loaded
 * at all: {@link #param} returns null and the model built with it must be thrown away unused.
 */
public final class ParamLoader {
  /** Weights with no tensors: checking against them lists every parameter as missing, and records its shape. */
  static final Weights NONE = new MapWeights(Map.of());

  private final Weights weights;
  private final Device device;
  private final DType dtype;
  private final Params params;
  private final boolean checkOnly;
  private final Set<String> used = new LinkedHashSet<>();
  private final Map<String, long[]> expected = new LinkedHashMap<>();
  private final List<String> problems = new ArrayList<>();
  private final List<String> ignoredPrefixes = new ArrayList<>();
  private Map<String, ? extends LayerAdapter> adapters = Map.of();
  private final Set<String> usedAdapters = new LinkedHashSet<>();
  private final List<Conv2d> convs = new ArrayList<>();

  private ParamLoader(Weights weights, Device device, DType dtype, Params params, boolean checkOnly) {
    if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16)
      throw new IllegalArgumentException("parameters must be float32, float16 or bfloat16, not " + dtype);
    this.weights = weights;
    this.device = device;
    this.dtype = dtype;
    this.params = params;
    this.checkOnly = checkOnly;
  }

  /** Loads into {@code params} (which then owns every tensor) on {@code device}. */
  public static ParamLoader loading(Weights weights, Device device, Params params) {
    return loading(weights, device, DType.F32, params);
  }

  /** Loads into {@code params} on {@code device}, every tensor cast to {@code dtype} (F32, F16 or BF16). */
  public static ParamLoader loading(Weights weights, Device device, DType dtype, Params params) {
    return new ParamLoader(weights, device, dtype, params, false);
  }

  /** The dtype parameters are loaded in. */
  public DType dtype() {
    return dtype;
  }

  /** Checks keys and shapes only; loads nothing. */
  public static ParamLoader checking(Weights weights) {
    return new ParamLoader(weights, Device.CPU, DType.F32, null, true);
  }

  /** The parameter {@code key} with {@code shape}; null when it is missing or mis-shaped (recorded) or when checking. */
  public Tensor param(String key, long... shape) {
    if (!used.add(key)) throw new IllegalStateException("parameter requested twice: " + key);
    expected.put(key, shape.clone());
    if (!weights.keys().contains(key)) {
      problems.add("missing " + key + " " + Arrays.toString(shape));
      return null;
    }
    long[] actual = weights.shape(key);
    if (!Arrays.equals(actual, shape)) {
      problems.add("wrong shape " + key + ": " + Arrays.toString(actual) + ", expected " + Arrays.toString(shape));
      return null;
    }
    if (checkOnly || !problems.isEmpty()) return null;
    try (TensorScope scope = TensorScope.open()) {
      Tensor cpu = weights.loadF32(key);
      Tensor t = dtype != DType.F32 ? cpu.to(dtype, device) : device.isCuda() ? cpu.to(device) : cpu;
      return params.add(key, scope.keep(t));
    }
  }

  /** Attaches {@code adapters} (by module name, e.g. {@code down_blocks.0.attentions.0.proj_in}) to the layers built. */
  public ParamLoader withAdapters(Map<String, ? extends LayerAdapter> adapters) {
    this.adapters = adapters;
    return this;
  }

  /** The adapter for the layer named {@code module}, or null (layers call this when they are built). */
  LayerAdapter adapter(String module) {
    LayerAdapter a = adapters.get(module);
    if (a != null) usedAdapters.add(module);
    return a;
  }

  /** Adapters given for modules that no linear or convolution layer of the model has (e.g. a LoRA for another model). */
  public List<String> unusedAdapters() {
    return adapters.keySet().stream().filter(k -> !usedAdapters.contains(k)).sorted().toList();
  }

  /** Throws a {@link UserInputException} naming (up to 10 of) the {@link #unusedAdapters()} of {@code what}, if any. */
  void requireAdaptersUsed(String what) {
    List<String> unused = unusedAdapters();
    if (!unused.isEmpty())
      throw new UserInputException(what + ": adapters for layers it does not have: "
          + String.join(", ", unused.subList(0, Math.min(10, unused.size()))));
  }

  /** Called by every {@link Conv2d}: the model packs them for inference ({@link InferencePacking}). */
  void registerConv(Conv2d conv) {
    convs.add(conv);
  }

  /** The convolutions built with this loader, in module order. */
  List<Conv2d> convs() {
    return List.copyOf(convs);
  }

  /** Every key requested so far with the shape its module expects, in module order. */
  public Map<String, long[]> expectedShapes() {
    return Collections.unmodifiableMap(expected);
  }

  /** Keys under {@code prefix} that real checkpoints carry but the model does not use (e.g. CLIP's position_ids). */
  public void ignore(String prefix) {
    ignoredPrefixes.add(prefix);
  }

  /** Every problem found so far plus the unexpected keys (present in the weights, never asked for). */
  public List<String> problems() {
    List<String> all = new ArrayList<>(problems);
    for (String k : new TreeSet<>(weights.keys())) {
      if (used.contains(k) || ignoredPrefixes.stream().anyMatch(k::startsWith)) continue;
      all.add("unexpected " + k + " " + Arrays.toString(weights.shape(k)));
    }
    return all;
  }

  /** Throws one {@link UserInputException} naming every problem of {@code what} (e.g. "UNet weights"), if any. */
  /**
   * A model's constructor: it builds its modules through {@code loader}, which loads their weights into
   * {@code params} or, when checking (params null), only records what they expect.
   */
  @FunctionalInterface
  interface Builder<C, M> {
    M build(C config, Params params, ParamLoader loader);
  }

  /**
   * Loads a model ({@code what}: "UNet", "VAE" …): every key is checked first, so a UserInputException names every
   * missing/extra/mis-shaped key at once; then the weights are loaded (cast to {@code dtype}, on {@code device}) with
   * {@code adapters} attached; an adapter for a layer the model lacks is an error, and a failure frees what was loaded.
   */
  static <C, M> M load(String what, C config, Weights weights, Device device, DType dtype,
      Map<String, ? extends LayerAdapter> adapters, Builder<C, M> builder) {
    failOn(what + " weights (" + weights.source() + ")", problems(config, weights, builder));
    Params params = new Params();
    try {
      ParamLoader p = loading(weights, device, dtype, params).withAdapters(adapters);
      M m = builder.build(config, params, p);
      p.requireAdaptersUsed(what);
      return m;
    } catch (RuntimeException e) {
      params.close();
      throw e;
    }
  }

  /** Every parameter key the model of {@code config} has, with its shape, in module order. */
  static <C> Map<String, long[]> shapes(C config, Builder<C, ?> builder) {
    ParamLoader p = checking(NONE);
    builder.build(config, null, p);
    return p.expectedShapes();
  }

  /** The weight problems of {@code weights} for the model of {@code config} (empty when it loads); reads no data. */
  static <C> List<String> problems(C config, Weights weights, Builder<C, ?> builder) {
    ParamLoader p = checking(weights);
    builder.build(config, null, p);
    return p.problems();
  }

  public static void failOn(String what, List<String> problems) {
    if (!problems.isEmpty()) throw new UserInputException(describe(what, problems));
  }

  static String describe(String what, List<String> all) {
    int shown = Math.min(all.size(), 20);
    String more = all.size() > shown ? "; … and " + (all.size() - shown) + " more" : "";
    return what + ": " + all.size() + " weight problem(s): " + String.join("; ", all.subList(0, shown)) + more;
  }
}

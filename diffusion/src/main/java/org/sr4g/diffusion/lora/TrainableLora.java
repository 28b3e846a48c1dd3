package org.sr4g.diffusion.lora;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.models.LayerAdapter;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * The trainable LoRA adapters of a training run ({@code sr4g train --lora-rank R}): what is optimised instead of the
 * base weights, which stay frozen. As diffusers' {@code train_text_to_image_lora.py} (PEFT {@code LoraConfig(r=R,
 * lora_alpha=A, init_lora_weights="gaussian", target_modules=[…])}): every layer of the UNet whose module name is one
 * of {@code targets} or ends with {@code "." + target} (PEFT's matching) gets A ~ N(0, (1/r)²) and B = 0, so training
 * starts from the base model's output exactly; with {@link Config#textTargets} the text encoder's layers too (diffusers'
 * DreamBooth LoRA script: q/k/v/out_proj).
 *
 * <p>Parameters are float32 (the master weights, also under mixed precision: the base may be cast lower) and named by
 * the keys {@link LoraWriter} stores ({@code unet.<module>.lora.down.weight}, …), so the optimizer state, the EMA and
 * a checkpoint's adapter file share one naming, and a checkpoint's file is a diffusers LoRA file. The {@link Params}
 * own the tensors; the {@link LoraAdapter}s handed to the model share them and are never closed themselves.
 */
public final class TrainableLora implements AutoCloseable {
  /** Rank, α (NaN: = rank) and the target module names of the UNet and (empty: not trained) the text encoder. */
  public record Config(int rank, double alpha, List<String> unetTargets, List<String> textTargets) {
    /** diffusers' {@code train_text_to_image_lora.py} targets. */
    public static final List<String> UNET_DEFAULT = List.of("to_q", "to_k", "to_v", "to_out.0");
    /** diffusers' DreamBooth LoRA text-encoder targets. */
    public static final List<String> TEXT_DEFAULT = List.of("q_proj", "k_proj", "v_proj", "out_proj");

    public double alphaOrRank() {
      return Double.isNaN(alpha) ? rank : alpha;
    }
  }

  private final Config config;
  private final Map<Part, Params> params = new EnumMap<>(Part.class);
  private final Map<Part, Map<String, LoraAdapter>> adapters = new EnumMap<>(Part.class);

  private TrainableLora(Config config) {
    this.config = config;
  }

  /**
   * Adapters for every targeted layer of {@code targets}, initialised from a CPU generator seeded with {@code seed}
   * (the same numbers on every device and every rank), on {@code device}. A target that matches no layer is a user
   * error naming it.
   */
  public static TrainableLora create(LoraTargets targets, Config c, long seed, Device device) {
    if (c.rank() < 1) throw new UserInputException("--lora-rank must be at least 1, got " + c.rank());
    if (!(c.alphaOrRank() > 0) || !Double.isFinite(c.alphaOrRank()))
      throw new UserInputException("--lora-alpha must be a positive number, got " + c.alpha());
    TrainableLora t = new TrainableLora(c);
    try (Generator g = new Generator(Device.CPU, seed); ModeGuard ng = Autograd.noGrad()) {
      t.add(Part.UNET, targets, c.unetTargets(), g, device);
      if (!c.textTargets().isEmpty()) t.add(Part.TEXT_ENCODER, targets, c.textTargets(), g, device);
      return t;
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
  }

  private void add(Part part, LoraTargets targets, List<String> names, Generator g, Device device) {
    Params p = new Params();
    params.put(part, p);
    Map<String, LoraAdapter> byModule = new LinkedHashMap<>();
    adapters.put(part, byModule);
    List<String> unmatched = new ArrayList<>(names);
    for (Map.Entry<String, long[]> layer : targets.layers(part).entrySet()) {
      String module = layer.getKey();
      String hit = null;
      for (String n : names) if (module.equals(n) || module.endsWith("." + n)) hit = n;
      if (hit == null) continue;
      unmatched.remove(hit);
      long[] w = layer.getValue();
      int r = config.rank();
      // PEFT: lora_A has the layer's kernel (a conv of the same kernel, stride and padding), lora_B is 1×1.
      long[] downShape = w.length == 4 ? new long[] {r, w[1], w[2], w[3]} : new long[] {r, w[1]};
      long[] upShape = w.length == 4 ? new long[] {w[0], r, 1, 1} : new long[] {w[0], r};
      try (TensorScope s = TensorScope.open()) {
        Tensor down = s.keep(Tensor.randn(g, DType.F32, downShape).mul(1.0 / r).to(device));
        Tensor up = s.keep(Tensor.zeros(DType.F32, device, upShape));
        p.add(LoraWriter.key(part, module, true), down);
        p.add(LoraWriter.key(part, module, false), up);
        byModule.put(module, new LoraAdapter(module, down, up, config.alphaOrRank(), 1.0));
      }
    }
    if (!unmatched.isEmpty())
      throw new UserInputException((part == Part.UNET ? "--lora-targets " : "text-encoder LoRA targets ") + unmatched
          + " match no linear or convolution layer of the " + (part == Part.UNET ? "UNet" : "text encoder")
          + " (names are diffusers module names or their last parts, e.g. to_q, to_out.0, ff.net.2, proj_in)");
  }

  public Config config() {
    return config;
  }

  /** Whether the text encoder has adapters. */
  public boolean trainsTextEncoder() {
    return params.containsKey(Part.TEXT_ENCODER);
  }

  /** The trainable parameters of {@code part} (empty when it has no adapters), named by their file keys. */
  public Params params(Part part) {
    Params p = params.get(part);
    return p != null ? p : EMPTY;
  }

  private static final Params EMPTY = new Params();

  /** Every trainable tensor: the UNet's adapters, then the text encoder's. */
  public List<Tensor> all() {
    List<Tensor> out = new ArrayList<>(params(Part.UNET).list());
    out.addAll(params(Part.TEXT_ENCODER).list());
    return out;
  }

  /** The adapters by part and module, for loading the model with them attached. */
  public Map<Part, Map<String, LayerAdapter>> adapters() {
    Map<Part, Map<String, LayerAdapter>> out = new EnumMap<>(Part.class);
    adapters.forEach((part, m) -> out.put(part, new LinkedHashMap<>(m)));
    return out;
  }

  /** The number of trainable values. */
  public long numel() {
    return params(Part.UNET).numel() + params(Part.TEXT_ENCODER).numel();
  }

  /** Writes the adapters as diffusers' {@code save_lora_weights} does ({@link LoraWriter}). */
  public void write(Path file) {
    write(file, Map.of());
  }

  /**
   * As {@link #write(Path)}, with the values of {@code replaced} (by parameter name, e.g. the EMA's averages of the
   * UNet's adapters) in place of the live ones.
   */
  public void write(Path file, Map<String, Tensor> replaced) {
    Map<Part, List<LoraAdapter>> out = new EnumMap<>(Part.class);
    // Views sharing the live (or replaced) tensors: LoraWriter only reads them; they are not closed here.
    for (Map.Entry<Part, Map<String, LoraAdapter>> e : adapters.entrySet()) {
      List<LoraAdapter> list = new ArrayList<>();
      for (LoraAdapter a : e.getValue().values()) {
        Tensor d = replaced.getOrDefault(LoraWriter.key(e.getKey(), a.module(), true), a.down());
        Tensor u = replaced.getOrDefault(LoraWriter.key(e.getKey(), a.module(), false), a.up());
        list.add(d == a.down() && u == a.up() ? a : new LoraAdapter(a.module(), d, u, a.alpha(), 1.0));
      }
      out.put(e.getKey(), list);
    }
    Map<Part, List<String>> targets = new EnumMap<>(Part.class);
    targets.put(Part.UNET, config.unetTargets());
    if (trainsTextEncoder()) targets.put(Part.TEXT_ENCODER, config.textTargets());
    LoraWriter.write(file, out, targets);
  }

  /**
   * Copies the values of a file written by {@link #write} (a checkpoint's adapters) into the parameters. The file must
   * hold exactly these adapters with these shapes (the same targets and rank): anything else is a user error.
   */
  public void load(Path file) {
    try (SafetensorsFile f = SafetensorsFile.open(file); ModeGuard ng = Autograd.noGrad();
        TensorScope s = TensorScope.open()) {
      int mine = 0;
      for (Params p : params.values()) {
        for (Map.Entry<String, Tensor> e : p.named().entrySet()) {
          if (!f.contains(e.getKey()))
            throw new UserInputException(file + ": no " + e.getKey() + " (written with other --lora-targets?)");
          if (!java.util.Arrays.equals(f.info(e.getKey()).shape(), e.getValue().shape()))
            throw new UserInputException(file + ": " + e.getKey() + " is " + java.util.Arrays.toString(
                f.info(e.getKey()).shape()) + ", this run's is " + java.util.Arrays.toString(e.getValue().shape())
                + " (another --lora-rank?)");
          e.getValue().copyFrom(f.toTensor(e.getKey()));
          mine++;
        }
      }
      if (f.keys().size() != mine)
        throw new UserInputException(file + ": holds " + f.keys().size() + " tensors, this run trains " + mine
            + " (other --lora-targets or --train-text-encoder?)");
    }
  }

  @Override
  public void close() {
    params.values().forEach(Params::close); // the adapters share these tensors
    params.clear();
    adapters.clear();
  }
}

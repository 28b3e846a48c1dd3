package org.sr4g.diffusion.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.torch.Tensor;

/**
 * A LoRA file ({@code .safetensors}) in any of the layouts people share, read into one list of adapters by diffusers
 * module name. Layouts (the key names are those diffusers' {@code lora_state_dict} / {@code
 * _convert_non_diffusers_lora_to_diffusers} accept for SD 1.x/2.x):
 *
 * <ul>
 *   <li><b>diffusers</b> ({@code pytorch_lora_weights.safetensors} as {@code save_lora_weights} writes it):
 *       {@code unet.<module>.lora.down.weight} / {@code .lora.up.weight} for attention projections,
 *       {@code text_encoder.<module>.lora_linear_layer.down.weight}, and the PEFT names below for other layers;
 *       rank and α in the {@code lora_adapter_metadata} JSON of the header ({@code unet.r}, {@code unet.lora_alpha},
 *       {@code unet.alpha_pattern}, …);
 *   <li><b>diffusers, old</b>: {@code unet.<block>.attn1.processor.to_q_lora.down.weight} ({@code to_out_lora} is
 *       {@code to_out.0}; in the text encoder {@code to_q_lora} is {@code q_proj}, {@code to_out_lora} {@code out_proj});
 *   <li><b>PEFT</b>: {@code <module>.lora_A.weight} / {@code lora_B.weight} (optionally with an adapter name before
 *       {@code .weight}, and {@code base_model.model.} in front), α from an {@code adapter_config.json} beside the file;
 *   <li><b>kohya / A1111</b>: {@code lora_unet_<module with _>.lora_down.weight} / {@code .lora_up.weight} /
 *       {@code .alpha}, {@code lora_te_…} for the text encoder.
 * </ul>
 *
 * α is taken from, in order: a {@code <name>.alpha} tensor, the metadata's {@code alpha_pattern} (a module-name
 * suffix, as PEFT matches it), its {@code lora_alpha}, else the rank (scale 1, as diffusers and kohya default).
 * Every key must be understood and every adapter must fit its layer (shapes, kernel); anything else — DoRA, LoHa/LoKr,
 * SDXL's second text encoder, layers the model does not have — is one {@link UserInputException} naming the keys.
 */
public final class LoraFile {
  /** The layouts above. */
  public enum Layout {
    DIFFUSERS, DIFFUSERS_OLD, PEFT, KOHYA
  }

  /** One adapter as stored: its layer, the keys of A (down) and B (up), and α (NaN: the rank). */
  public record Entry(Part part, String module, String downKey, String upKey, double alpha) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern KOHYA = Pattern.compile("(lora_(?:unet|te1?|te2)_[^.]+)\\.(lora_down\\.weight|lora_up\\.weight|alpha|dora_scale)");
  private static final Pattern NEW = Pattern.compile("(.+)\\.(?:lora|lora_linear_layer)\\.(down|up)\\.weight");
  private static final Pattern PEFT = Pattern.compile("(.+)\\.lora_([AB])(?:\\.[A-Za-z0-9_-]+)?\\.weight");
  private static final Pattern OLD = Pattern.compile("(.+?)(?:\\.processor)?\\.(to_q|to_k|to_v|to_out)_lora\\.(down|up)\\.weight");
  private static final Pattern ALPHA = Pattern.compile("(.+)\\.alpha");

  private final Path path;
  private final Layout layout;
  private final List<Entry> entries;
  private final String declaredPrediction;

  private LoraFile(Path path, Layout layout, List<Entry> entries, String declaredPrediction) {
    this.path = path;
    this.layout = layout;
    this.entries = List.copyOf(entries);
    this.declaredPrediction = declaredPrediction;
  }

  public Path path() {
    return path;
  }

  public Layout layout() {
    return layout;
  }

  public List<Entry> entries() {
    return entries;
  }

  /** {@code modelspec.prediction_type} or kohya's {@code ss_v_parameterization}, as epsilon / v_prediction; or null. */
  public String declaredPredictionType() {
    return declaredPrediction;
  }

  /** Reads and checks {@code path} against {@code targets}; loads nothing yet (see {@link #adapters}). */
  public static LoraFile read(Path path, LoraTargets targets) {
    if (!path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors"))
      throw new UserInputException(path + ": LoRA files are read as .safetensors only");
    try (SafetensorsFile f = SafetensorsFile.open(path)) {
      return parse(path, f, targets);
    }
  }

  /** The adapters, each with its tensors loaded as float32 (owned by the returned adapters) and {@code scale}. */
  public List<LoraAdapter> adapters(double scale) {
    List<LoraAdapter> out = new ArrayList<>();
    try (SafetensorsFile f = SafetensorsFile.open(path)) {
      for (Entry e : entries) {
        Tensor down = f.toTensor(e.downKey()), up = f.toTensor(e.upKey());
        double alpha = Double.isNaN(e.alpha()) ? down.size(0) : e.alpha();
        out.add(new LoraAdapter(e.module(), down, up, alpha, scale));
      }
    } catch (RuntimeException ex) {
      out.forEach(LoraAdapter::close);
      throw ex;
    }
    return out;
  }

  /** Collected keys of one (part, module) before checking. */
  private static final class Pending {
    String down, up;
    Double alpha;
  }

  private static LoraFile parse(Path path, SafetensorsFile f, LoraTargets targets) {
    Map<String, String> meta = f.metadata();
    Map<LoraTargets.Layer, Pending> found = new LinkedHashMap<>();
    List<String> unknown = new ArrayList<>();
    TreeSet<Layout> layouts = new TreeSet<>();
    for (String key : new TreeSet<>(f.keys())) {
      Matcher m = KOHYA.matcher(key);
      if (m.matches()) {
        layouts.add(Layout.KOHYA);
        refuse(path, key, m.group(2).equals("dora_scale"), "DoRA (dora_scale) is not supported");
        refuse(path, key, m.group(1).startsWith("lora_te2_"), "an SDXL LoRA (second text encoder); only SD 1.x/2.x");
        LoraTargets.Layer layer = targets.kohya(m.group(1));
        if (layer == null) {
          unknown.add(key);
          continue;
        }
        Pending p = found.computeIfAbsent(layer, x -> new Pending());
        switch (m.group(2)) {
          case "lora_down.weight" -> p.down = key;
          case "lora_up.weight" -> p.up = key;
          default -> p.alpha = scalar(path, f, key);
        }
        continue;
      }
      refuse(path, key, key.contains("lora_magnitude_vector"), "DoRA (lora_magnitude_vector) is not supported");
      refuse(path, key, key.contains("hada_") || key.contains("lokr_"), "LyCORIS LoHa/LoKr layers are not supported");
      refuse(path, key, key.startsWith("text_encoder_2."), "an SDXL LoRA (text_encoder_2); only SD 1.x/2.x");
      String k = key.startsWith("base_model.model.") ? key.substring("base_model.model.".length()) : key;
      Part part = null;
      if (k.startsWith("unet.")) {
        part = Part.UNET;
        k = k.substring("unet.".length());
      } else if (k.startsWith("text_encoder.")) {
        part = Part.TEXT_ENCODER;
        k = k.substring("text_encoder.".length());
      }
      String module = null, which = null;
      if ((m = OLD.matcher(k)).matches()) {
        layouts.add(Layout.DIFFUSERS_OLD);
        boolean text = part == Part.TEXT_ENCODER || m.group(1).startsWith("text_model.");
        String proj = m.group(2);
        module = m.group(1) + "." + (text ? proj.substring(3) + "_proj" : proj.equals("to_out") ? "to_out.0" : proj);
        which = m.group(3);
      } else if ((m = NEW.matcher(k)).matches()) {
        layouts.add(Layout.DIFFUSERS);
        module = m.group(1);
        which = m.group(2);
      } else if ((m = PEFT.matcher(k)).matches()) {
        layouts.add(Layout.PEFT);
        module = m.group(1);
        which = m.group(2).equals("A") ? "down" : "up";
      } else if ((m = ALPHA.matcher(k)).matches()) {
        module = m.group(1);
        which = "alpha";
      }
      if (module == null) {
        unknown.add(key);
        continue;
      }
      if (part == null) part = module.startsWith("text_model.") ? Part.TEXT_ENCODER : Part.UNET;
      if (!targets.layers(part).containsKey(module)) {
        unknown.add(key);
        continue;
      }
      Pending p = found.computeIfAbsent(new LoraTargets.Layer(part, module), x -> new Pending());
      switch (which) {
        case "down" -> p.down = key;
        case "up" -> p.up = key;
        default -> p.alpha = scalar(path, f, key);
      }
    }
    if (!unknown.isEmpty())
      throw new UserInputException(path + ": " + unknown.size() + " key(s) name no layer of this model (a LoRA for"
          + " another architecture?): " + String.join(", ", unknown.subList(0, Math.min(8, unknown.size())))
          + (unknown.size() > 8 ? ", …" : ""));
    if (found.isEmpty()) throw new UserInputException(path + ": no LoRA weights in the file");
    Alphas alphas = Alphas.of(path, meta);
    List<Entry> entries = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<LoraTargets.Layer, Pending> e : found.entrySet()) {
      LoraTargets.Layer layer = e.getKey();
      Pending p = e.getValue();
      if (p.down == null || p.up == null) {
        problems.add(layer.module() + ": " + (p.down == null ? "no down/lora_A weight" : "no up/lora_B weight"));
        continue;
      }
      String why = fits(f.info(p.down).shape(), f.info(p.up).shape(), targets.layers(layer.part()).get(layer.module()));
      if (why != null) {
        problems.add(p.down + ": " + why);
        continue;
      }
      for (String k : new String[] {p.down, p.up})
        if (!f.info(k).dtype().startsWith("F") && !f.info(k).dtype().equals("BF16"))
          problems.add(k + ": " + f.info(k).dtype() + ", not a float tensor");
      double alpha = p.alpha != null ? p.alpha : alphas.of(layer);
      entries.add(new Entry(layer.part(), layer.module(), p.down, p.up, alpha));
    }
    if (!problems.isEmpty())
      throw new UserInputException(path + ": " + problems.size() + " adapter(s) do not fit this model: "
          + String.join("; ", problems.subList(0, Math.min(8, problems.size()))) + (problems.size() > 8 ? "; …" : ""));
    return new LoraFile(path, layouts.first(), entries, prediction(meta));
  }

  /**
   * Null when a LoRA with A {@code down} and B {@code up} fits a layer whose weight is {@code weight}, else why not:
   * A is [r, in] or [r, in, k, k] with the layer's kernel, B is [out, r] or [out, r, 1, 1].
   */
  static String fits(long[] down, long[] up, long[] weight) {
    boolean conv = weight.length == 4;
    long out = weight[0], in = weight[1], k = conv ? weight[2] : 1;
    boolean downOk = down.length == 2 ? k == 1 : down.length == 4 && down[2] == k && down[3] == (conv ? weight[3] : 1);
    boolean upOk = up.length == 2 || up.length == 4 && up[2] == 1 && up[3] == 1;
    if (!downOk || !upOk || down[1] != in || up[0] != out || up[1] != down[0])
      return "A " + Arrays.toString(down) + " and B " + Arrays.toString(up) + " do not fit the layer's weight "
          + Arrays.toString(weight);
    return null;
  }

  private static void refuse(Path path, String key, boolean cond, String why) {
    if (cond) throw new UserInputException(path + ": " + key + ": " + why);
  }

  private static double scalar(Path path, SafetensorsFile f, String key) {
    float[] v = f.readFloats(key);
    if (v.length != 1 || !Float.isFinite(v[0]) || v[0] <= 0)
      throw new UserInputException(path + ": " + key + " must be one positive number, got " + Arrays.toString(v));
    return v[0];
  }

  private static String prediction(Map<String, String> meta) {
    String p = meta.get("modelspec.prediction_type");
    if ("v".equals(p) || "v_prediction".equals(p)) return "v_prediction";
    if ("epsilon".equals(p)) return "epsilon";
    String v = meta.get("ss_v_parameterization");
    if (v != null) return v.equalsIgnoreCase("true") ? "v_prediction" : "epsilon";
    return null;
  }

  /** α from diffusers' {@code lora_adapter_metadata} (per part) or a PEFT {@code adapter_config.json} beside the file. */
  private record Alphas(Map<Part, JsonNode> configs) {
    static Alphas of(Path path, Map<String, String> meta) {
      Map<Part, JsonNode> c = new LinkedHashMap<>();
      String m = meta.get("lora_adapter_metadata");
      if (m != null) {
        JsonNode n = readJson(path, m, "lora_adapter_metadata");
        for (Part part : new Part[] {Part.UNET, Part.TEXT_ENCODER}) {
          String prefix = part == Part.UNET ? "unet." : "text_encoder.";
          com.fasterxml.jackson.databind.node.ObjectNode o = JSON.createObjectNode();
          n.fields().forEachRemaining(e -> {
            if (e.getKey().startsWith(prefix)) o.set(e.getKey().substring(prefix.length()), e.getValue());
          });
          if (!o.isEmpty()) c.put(part, o);
        }
      }
      Path adapterConfig = path.toAbsolutePath().resolveSibling("adapter_config.json");
      if (c.isEmpty() && Files.isRegularFile(adapterConfig)) {
        try {
          JsonNode n = readJson(adapterConfig, Files.readString(adapterConfig), "adapter_config.json");
          c.put(Part.UNET, n);
          c.put(Part.TEXT_ENCODER, n);
        } catch (IOException e) {
          throw new UserInputException(adapterConfig + ": cannot read: " + e.getMessage(), e);
        }
      }
      return new Alphas(c);
    }

    /** NaN: no α given (the adapter uses its rank). */
    double of(LoraTargets.Layer layer) {
      JsonNode c = configs.get(layer.part());
      if (c == null) return Double.NaN;
      JsonNode pattern = c.get("alpha_pattern");
      if (pattern != null && pattern.isObject()) {
        for (var it = pattern.fields(); it.hasNext(); ) {
          var e = it.next();
          if ((layer.module().equals(e.getKey()) || layer.module().endsWith("." + e.getKey())) && e.getValue().isNumber())
            return e.getValue().doubleValue();
        }
      }
      JsonNode a = c.get("lora_alpha");
      return a != null && a.isNumber() ? a.doubleValue() : Double.NaN;
    }

    private static JsonNode readJson(Path path, String text, String what) {
      try {
        JsonNode n = JSON.readTree(text);
        if (n == null || !n.isObject()) throw new UserInputException(path + ": " + what + " is not a JSON object");
        return n;
      } catch (IOException e) {
        throw new UserInputException(path + ": " + what + " is not valid JSON: " + e.getMessage(), e);
      }
    }
  }
}

package org.sr4g.diffusion.lora;

import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.singlefile.LdmKeys;

/**
 * The layers of a model that LoRA can adapt: every linear and convolution layer of the UNet and the text encoder, by
 * diffusers module name with its weight's shape (embeddings and norms are not layers LoRA files name), and the
 * names kohya / A1111 files use for them: {@code lora_unet_} or {@code lora_te_} followed by the module path with
 * {@code .} replaced by {@code _} (kohya's sd-scripts names SD 1.x/2.x modules after the diffusers tree), also the
 * LDM paths some tools write ({@code lora_unet_input_blocks_1_1_proj_in}).
 */
public final class LoraTargets {
  /** A layer: its part and diffusers module name. */
  public record Layer(Part part, String module) {}

  private final Map<Part, Map<String, long[]>> layers = new HashMap<>();
  private final Map<String, Layer> kohya = new HashMap<>();

  private LoraTargets(UNetConfig unet, ClipTextConfig text) {
    Map<String, long[]> u = modules(UNet2DConditionModel.LOADER.parameterShapes(unet));
    Map<String, long[]> t = modules(ClipTextModel.LOADER.parameterShapes(text));
    layers.put(Part.UNET, u);
    layers.put(Part.TEXT_ENCODER, t);
    for (String m : u.keySet()) {
      kohya.put("lora_unet_" + m.replace('.', '_'), new Layer(Part.UNET, m));
      String ldm = LdmKeys.unet(m + ".weight", unet);
      if (ldm != null)
        kohya.putIfAbsent("lora_unet_" + ldm.substring(LdmKeys.UNET_PREFIX.length(), ldm.length() - ".weight".length())
            .replace('.', '_'), new Layer(Part.UNET, m));
    }
    for (String m : t.keySet()) {
      kohya.put("lora_te_" + m.replace('.', '_'), new Layer(Part.TEXT_ENCODER, m));
      kohya.put("lora_te1_" + m.replace('.', '_'), new Layer(Part.TEXT_ENCODER, m));
    }
  }

  public static LoraTargets of(UNetConfig unet, ClipTextConfig text) {
    return new LoraTargets(unet, text);
  }

  /** Modules with a 2-D (linear) or 4-D (convolution) weight, except embedding tables. */
  private static Map<String, long[]> modules(Map<String, long[]> params) {
    Map<String, long[]> out = new LinkedHashMap<>();
    params.forEach((k, s) -> {
      if (k.endsWith(".weight") && (s.length == 2 || s.length == 4) && !k.contains("embeddings."))
        out.put(k.substring(0, k.length() - ".weight".length()), s);
    });
    return out;
  }

  /** module → weight shape of {@code part}'s adaptable layers. */
  public Map<String, long[]> layers(Part part) {
    return Collections.unmodifiableMap(layers.getOrDefault(part, Map.of()));
  }

  /** The layer a kohya name ({@code lora_unet_…}, {@code lora_te_…}) stands for, or null. */
  Layer kohya(String name) {
    return kohya.get(name);
  }
}

package org.sr4g.diffusion.lora;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * Writes adapters as diffusers' {@code StableDiffusionPipeline.save_lora_weights} does after
 * {@code convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))} ({@code pytorch_lora_weights.safetensors}
 * of {@code train_text_to_image_lora.py}), so {@code pipe.load_lora_weights} and every tool that reads those files
 * loads it:
 *
 * <ul>
 *   <li>names: {@code <component>.<module>.lora_A.weight} / {@code lora_B.weight} (PEFT), then the first matching
 *       rename of diffusers' {@code PEFT_TO_DIFFUSERS} table: {@code to_q/to_k/to_v/to_out.0.lora_A → .lora.down},
 *       {@code lora_B → .lora.up}; {@code q_proj/k_proj/v_proj/out_proj.lora_A → .lora_linear_layer.down},
 *       {@code lora_B → .lora_linear_layer.up}; other layers keep the PEFT names ({@link #key});
 *   <li>metadata: {@code format: pt} and {@code lora_adapter_metadata}, the JSON of each component's LoRA config with
 *       the component as prefix ({@code unet.r}, {@code unet.lora_alpha}, {@code unet.target_modules}), keys sorted;
 *   <li>tensors: float32, A and B as they are (the user's scale is a load-time choice, not stored).
 * </ul>
 *
 * One rank and one α per component (what a training run produces); {@link LoraFile} reads the file back.
 */
public final class LoraWriter {
  private LoraWriter() {}

  /** diffusers' file name for these files. */
  public static final String FILE_NAME = "pytorch_lora_weights.safetensors";

  /** The stored key of {@code module}'s A ({@code down}) or B weight in {@code part}. */
  public static String key(Part part, String module, boolean down) {
    String prefix = part == Part.UNET ? "unet." : "text_encoder.";
    String tail = module.substring(module.lastIndexOf('.') + 1);
    String last = tail.equals("0") && module.endsWith("to_out.0") ? "to_out.0" : tail;
    String suffix = switch (last) {
      case "to_q", "to_k", "to_v", "to_out.0" -> down ? ".lora.down.weight" : ".lora.up.weight";
      case "q_proj", "k_proj", "v_proj", "out_proj" -> down ? ".lora_linear_layer.down.weight" : ".lora_linear_layer.up.weight";
      default -> down ? ".lora_A.weight" : ".lora_B.weight";
    };
    return prefix + module + suffix;
  }

  /** Writes {@code adapters} (per part) to {@code file} (atomically, via a temporary file). */
  public static void write(Path file, Map<Part, List<LoraAdapter>> adapters) {
    write(file, adapters, Map.of());
  }

  /**
   * As {@link #write(Path, Map)}, with the {@code target_modules} of a part's metadata as given in {@code targets} (the
   * training run's {@code --lora-targets}, as PEFT records its config); a part not in it gets its adapted modules' last
   * name parts.
   */
  public static void write(Path file, Map<Part, List<LoraAdapter>> adapters, Map<Part, List<String>> targets) {
    SafetensorsWriter w = new SafetensorsWriter();
    ObjectMapper json = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    Map<String, Object> meta = new TreeMap<>();
    for (Map.Entry<Part, List<LoraAdapter>> e : adapters.entrySet()) {
      if (e.getValue().isEmpty()) continue;
      Part part = e.getKey();
      if (part != Part.UNET && part != Part.TEXT_ENCODER) throw new IllegalArgumentException("LoRA on " + part);
      LoraAdapter first = e.getValue().get(0);
      TreeSet<String> modules = new TreeSet<>();
      for (LoraAdapter a : e.getValue()) {
        if (a.rank() != first.rank() || a.alpha() != first.alpha())
          throw new IllegalArgumentException(part + ": one rank and alpha per component (" + a.module() + " differs)");
        put(w, key(part, a.module(), true), a.down());
        put(w, key(part, a.module(), false), a.up());
        String m = a.module();
        modules.add(m.endsWith(".to_out.0") ? "to_out.0" : m.substring(m.lastIndexOf('.') + 1));
      }
      String prefix = part == Part.UNET ? "unet." : "text_encoder.";
      meta.put(prefix + "r", first.rank());
      meta.put(prefix + "lora_alpha", first.alpha());
      meta.put(prefix + "target_modules", targets.containsKey(part) ? List.copyOf(new TreeSet<>(targets.get(part)))
          : List.copyOf(modules));
    }
    w.putMetadata("format", "pt");
    try {
      w.putMetadata("lora_adapter_metadata", json.writerWithDefaultPrettyPrinter().writeValueAsString(meta));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
    w.write(file);
  }

  private static void put(SafetensorsWriter w, String key, Tensor t) {
    try (TensorScope s = TensorScope.open()) {
      w.putF32(key, t.to(org.sr4g.torch.DType.F32, org.sr4g.torch.Device.CPU).contiguous().toFloatArray(), t.shape());
    }
  }
}

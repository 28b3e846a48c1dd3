package org.sr4g.diffusion.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.FolderSource;
import org.sr4g.diffusion.ModelChecks;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.ModelSource;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.ModelWriter;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.diffusion.Txt2Img;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/**
 * LoRA on the tiny random model: adapters on attention projections, feed-forward and projection layers (linear and
 * 1×1 convolutions), a 3×3 resnet convolution (kohya's "conv" LoRA) and the text encoder's attention, written in the
 * diffusers layout and, with the same numbers, in the kohya, PEFT and old diffusers layouts.
 */
class LoraTest {
  /** Merged vs attached adapters, relative to the output's largest entry (see the UNet comparison). */
  private static final double MERGE_RTOL = 1e-5;

  /** UNet layers of the tiny model that get an adapter, of every kind LoRA files target. */
  static final List<String> UNET_MODULES = List.of(
      "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q",
      "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0",
      "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k",
      "up_blocks.1.attentions.1.transformer_blocks.0.attn2.to_v",
      "mid_block.attentions.0.transformer_blocks.0.ff.net.2",
      "down_blocks.0.attentions.0.proj_in", // a 1×1 convolution in the tiny model
      "up_blocks.1.resnets.0.conv1", // 3×3
      "mid_block.resnets.0.time_emb_proj");
  static final List<String> TEXT_MODULES = List.of("text_model.encoder.layers.0.self_attn.q_proj",
      "text_model.encoder.layers.1.self_attn.out_proj", "text_model.encoder.layers.1.mlp.fc1");
  static final int RANK = 2;
  static final double ALPHA = 3;

  /** Random A and B for every module (B nonzero, unlike a freshly initialised adapter, so the test sees them). */
  static Map<Part, List<LoraAdapter>> adapters(ModelFolder folder, double scale, long seed) {
    LoraTargets t = LoraTargets.of(folder.unetConfig(), folder.textEncoderConfig());
    Map<Part, List<LoraAdapter>> out = new LinkedHashMap<>();
    try (Generator g = new Generator(Device.CPU, seed)) {
      for (Part p : List.of(Part.UNET, Part.TEXT_ENCODER)) {
        List<LoraAdapter> list = new ArrayList<>();
        for (String m : p == Part.UNET ? UNET_MODULES : TEXT_MODULES) {
          long[] w = t.layers(p).get(m);
          long[] down = w.length == 4 ? new long[] {RANK, w[1], w[2], w[3]} : new long[] {RANK, w[1]};
          long[] up = w.length == 4 ? new long[] {w[0], RANK, 1, 1} : new long[] {w[0], RANK};
          list.add(new LoraAdapter(m, Tensor.randn(g, DType.F32, down).mul(0.05), Tensor.randn(g, DType.F32, up).mul(0.05),
              ALPHA, scale));
        }
        out.put(p, list);
      }
    }
    return out;
  }

  static void close(Map<Part, List<LoraAdapter>> a) {
    a.values().forEach(l -> l.forEach(LoraAdapter::close));
  }

  /** {@link #adapters} written in the diffusers layout to {@code file}. */
  static Path writeLora(ModelFolder folder, Path file, long seed) {
    Map<Part, List<LoraAdapter>> a = adapters(folder, 1.0, seed);
    try {
      LoraWriter.write(file, a);
    } finally {
      close(a);
    }
    return file;
  }

  @Test
  void mergedUnetAndTextEncoderEqualTheBaseWithAdaptersAttached(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 2);
    ModelFolder folder = ModelFolder.open(model, null);
    Path file = writeLora(folder, tmp.resolve(LoraWriter.FILE_NAME), 9);
    long live = Torch.liveTensors();
    try (LoraSource lora = LoraSource.open(FolderSource.open(folder), List.of(new LoraSource.Spec(file, 0.7)));
        FolderSource plain = FolderSource.open(folder);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open();
        Generator g = new Generator(Device.CPU, 1)) {
      assertEquals(LoraFile.Layout.DIFFUSERS, lora.files().get(0).layout());
      Tensor x = Tensor.randn(g, DType.F32, 2, 4, 8, 8), t = Tensor.of(new float[] {10, 500}, 2);
      Tensor ctx = Tensor.randn(g, DType.F32, 2, 77, 32);
      Tensor base, merged, attached;
      try (UNet2DConditionModel b = UNet2DConditionModel.LOADER.load(folder.unetConfig(), plain.weights(Part.UNET), Device.CPU);
          UNet2DConditionModel m = UNet2DConditionModel.LOADER.load(folder.unetConfig(), lora.weights(Part.UNET), Device.CPU);
          UNet2DConditionModel a = UNet2DConditionModel.LOADER.load(folder.unetConfig(), plain.weights(Part.UNET), Device.CPU,
              DType.F32, lora.adapters(Part.UNET))) {
        base = b.forward(x, t, ctx);
        merged = m.forward(x, t, ctx);
        attached = a.forward(x, t, ctx);
      }
      // Merging changes only the float32 rounding ((W + ΔW)x vs Wx + B(Ax), summed in another order), which grows
      // with the output's size and with the BLAS's summation order (OpenBLAS's blocking and thread count): measured
      // 0.7e-6 to 2.0e-6 of the largest entry. The bound, 1e-5 of it (~80 float32 ulps), is still ~1e4 times below
      // what the adapters change (max|merged - base|), so a wrong merge cannot pass.
      double diff = maxAbs(merged.sub(attached)), effect = maxAbs(merged.sub(base)), scale = maxAbs(merged);
      System.out.printf("LoRA UNet: max|merged - (base + adapters)| = %.3g, max|merged| = %.3g, max|merged - base| = %.3g%n",
          diff, scale, effect);
      assertTrue(diff <= MERGE_RTOL * Math.max(1, scale), "merged vs attached: " + diff + " (max|out| " + scale + ")");
      assertTrue(effect > 1e-3, "the adapters change the output: " + effect);

      Tensor ids = Tensor.of(lora.tokenizer().tokenize("a cat to the left of a dog"), 1, 77);
      try (ClipTextModel b = ClipTextModel.LOADER.load(folder.textEncoderConfig(), plain.weights(Part.TEXT_ENCODER), Device.CPU);
          ClipTextModel m = ClipTextModel.LOADER.load(folder.textEncoderConfig(), lora.weights(Part.TEXT_ENCODER), Device.CPU);
          ClipTextModel a = ClipTextModel.LOADER.load(folder.textEncoderConfig(), plain.weights(Part.TEXT_ENCODER), Device.CPU,
              DType.F32, lora.adapters(Part.TEXT_ENCODER))) {
        Tensor em = m.encode(ids, 1);
        double d = maxAbs(em.sub(a.encode(ids, 1))), e = maxAbs(em.sub(b.encode(ids, 1))), sc = maxAbs(em);
        System.out.printf("LoRA text encoder: max|merged - (base + adapters)| = %.3g, max|merged| = %.3g, max|merged - base| = %.3g%n",
            d, sc, e);
        assertTrue(d <= MERGE_RTOL * Math.max(1, sc), "text encoder merged vs attached: " + d);
        assertTrue(e > 1e-3, "the text adapters change the output: " + e);
      }
    }
    assertEquals(live, Torch.liveTensors(), "every handle freed");
  }

  @Test
  void scaleZeroSamplesTheBaseModelByteForByte(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 2);
    ModelFolder folder = ModelFolder.open(model, null);
    Path file = writeLora(folder, tmp.resolve("l.safetensors"), 9);
    byte[] base, zero, one;
    try (FolderSource s = FolderSource.open(folder)) {
      base = png(s);
    }
    try (LoraSource s = LoraSource.open(FolderSource.open(folder), List.of(LoraSource.Spec.parse(file + ":0")))) {
      zero = png(s);
    }
    try (LoraSource s = LoraSource.open(FolderSource.open(folder), List.of(LoraSource.Spec.parse(file.toString())))) {
      one = png(s);
    }
    assertArrayEquals(base, zero, "scale 0: the base model's image, byte for byte");
    assertFalse(java.util.Arrays.equals(base, one), "scale 1 changes the image");
  }

  @Test
  void kohyaPeftAndOldDiffusersLayoutsGiveTheSameMergedModel(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 2);
    ModelFolder folder = ModelFolder.open(model, null);
    Path diffusers = tmp.resolve("diffusers.safetensors");
    Map<Part, List<LoraAdapter>> a = adapters(folder, 1.0, 4);
    LoraWriter.write(diffusers, a);
    // kohya: lora_unet_/lora_te_ + module with '_' for '.', lora_down/lora_up, alpha as a scalar per module.
    SafetensorsWriter kohya = new SafetensorsWriter(), peft = new SafetensorsWriter(), old = new SafetensorsWriter();
    for (Map.Entry<Part, List<LoraAdapter>> e : a.entrySet())
      for (LoraAdapter l : e.getValue()) {
        String name = (e.getKey() == Part.UNET ? "lora_unet_" : "lora_te_") + l.module().replace('.', '_');
        put(kohya, name + ".lora_down.weight", l.down());
        put(kohya, name + ".lora_up.weight", l.up());
        kohya.putF32(name + ".alpha", new float[] {(float) ALPHA});
        String prefix = e.getKey() == Part.UNET ? "unet." : "text_encoder.";
        put(peft, prefix + l.module() + ".lora_A.weight", l.down());
        put(peft, prefix + l.module() + ".lora_B.weight", l.up());
        peft.putF32(prefix + l.module() + ".alpha", new float[] {(float) ALPHA});
        String o = oldName(e.getKey(), l.module());
        if (o != null) {
          put(old, prefix + o + ".down.weight", l.down());
          put(old, prefix + o + ".up.weight", l.up());
        } else {
          put(old, prefix + l.module() + ".lora.down.weight", l.down());
          put(old, prefix + l.module() + ".lora.up.weight", l.up());
        }
      }
    close(a);
    old.putMetadata("lora_adapter_metadata", "{\"unet.lora_alpha\": 3, \"text_encoder.lora_alpha\": 3}");
    Path k = tmp.resolve("kohya.safetensors"), p = tmp.resolve("peft.safetensors"), o = tmp.resolve("old.safetensors");
    kohya.write(k);
    peft.write(p);
    old.write(o);
    Map<String, float[]> reference = mergedTensors(folder, diffusers);
    for (Path f : List.of(k, p, o)) {
      Map<String, float[]> other = mergedTensors(folder, f);
      assertEquals(reference.keySet(), other.keySet());
      for (String key : reference.keySet()) assertArrayEquals(reference.get(key), other.get(key), f.getFileName() + " " + key);
    }
    try (LoraSource s = LoraSource.open(FolderSource.open(folder), List.of(new LoraSource.Spec(k, 1)))) {
      assertEquals(LoraFile.Layout.KOHYA, s.files().get(0).layout());
    }
    try (LoraSource s = LoraSource.open(FolderSource.open(folder), List.of(new LoraSource.Spec(o, 1)))) {
      assertEquals(LoraFile.Layout.DIFFUSERS, s.files().get(0).layout(), "mixed old and new names: the first layout");
    }
  }

  /** The old diffusers attention-processor name of a module, or null for layers it had no name for. */
  private static String oldName(Part part, String module) {
    String[][] unet = {{".to_q", ".processor.to_q_lora"}, {".to_k", ".processor.to_k_lora"},
        {".to_v", ".processor.to_v_lora"}, {".to_out.0", ".processor.to_out_lora"}};
    String[][] text = {{".q_proj", ".to_q_lora"}, {".out_proj", ".to_out_lora"}};
    for (String[] r : part == Part.UNET ? unet : text)
      if (module.endsWith(r[0])) return module.substring(0, module.length() - r[0].length()) + r[1];
    return null;
  }

  private static void put(SafetensorsWriter w, String key, Tensor t) {
    w.putF32(key, t.contiguous().toFloatArray(), t.shape());
  }

  private static Map<String, float[]> mergedTensors(ModelFolder folder, Path file) {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (LoraSource s = LoraSource.open(FolderSource.open(folder), List.of(new LoraSource.Spec(file, 0.5)));
        TensorScope scope = TensorScope.open()) {
      for (Part p : List.of(Part.UNET, Part.TEXT_ENCODER))
        for (String key : new TreeSet<>(s.weights(p).keys())) out.put(p + key, s.weights(p).loadF32(key).toFloatArray());
    }
    return out;
  }

  /**
   * The names diffusers gives these adapters, derived from its rules rather than from {@link LoraWriter}:
   * (1) {@code get_peft_model_state_dict} names A and B {@code <module>.lora_A.weight} / {@code <module>.lora_B.weight};
   * (2) {@code convert_state_dict_to_diffusers} with original type PEFT applies {@code PEFT_TO_DIFFUSERS}, replacing
   * the first pattern (in the table's order) found in the key; (3) {@code save_lora_weights} /
   * {@code _pack_dict_with_prefix} prepends {@code unet.} or {@code text_encoder.}. The table is diffusers'
   * (src/diffusers/utils/state_dict_utils.py), as facts.
   */
  static String diffusersName(Part part, String module, boolean a) {
    String[][] peftToDiffusers = {
        {".q_proj.lora_B", ".q_proj.lora_linear_layer.up"}, {".q_proj.lora_A", ".q_proj.lora_linear_layer.down"},
        {".k_proj.lora_B", ".k_proj.lora_linear_layer.up"}, {".k_proj.lora_A", ".k_proj.lora_linear_layer.down"},
        {".v_proj.lora_B", ".v_proj.lora_linear_layer.up"}, {".v_proj.lora_A", ".v_proj.lora_linear_layer.down"},
        {".out_proj.lora_B", ".out_proj.lora_linear_layer.up"}, {".out_proj.lora_A", ".out_proj.lora_linear_layer.down"},
        {"to_k.lora_A", "to_k.lora.down"}, {"to_k.lora_B", "to_k.lora.up"}, {"to_q.lora_A", "to_q.lora.down"},
        {"to_q.lora_B", "to_q.lora.up"}, {"to_v.lora_A", "to_v.lora.down"}, {"to_v.lora_B", "to_v.lora.up"},
        {"to_out.0.lora_A", "to_out.0.lora.down"}, {"to_out.0.lora_B", "to_out.0.lora.up"}};
    String k = module + (a ? ".lora_A.weight" : ".lora_B.weight");
    for (String[] r : peftToDiffusers)
      if (k.contains(r[0])) {
        k = k.replace(r[0], r[1]);
        break;
      }
    return (part == Part.UNET ? "unet." : "text_encoder.") + k;
  }

  @Test
  void writerNamesFollowDiffusersRulesAndReadsBack(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 2);
    ModelFolder folder = ModelFolder.open(model, null);
    Path file = tmp.resolve(LoraWriter.FILE_NAME);
    Map<Part, List<LoraAdapter>> a = adapters(folder, 1.0, 5);
    LoraWriter.write(file, a);
    TreeSet<String> expected = new TreeSet<>();
    for (Part p : a.keySet())
      for (LoraAdapter l : a.get(p)) {
        expected.add(diffusersName(p, l.module(), true));
        expected.add(diffusersName(p, l.module(), false));
      }
    assertTrue(expected.contains("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0.lora.down.weight"));
    assertTrue(expected.contains("unet.up_blocks.1.resnets.0.conv1.lora_A.weight"));
    assertTrue(expected.contains("text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_linear_layer.up.weight"));
    assertTrue(expected.contains("text_encoder.text_model.encoder.layers.1.mlp.fc1.lora_B.weight"));
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      assertEquals(expected, new TreeSet<>(f.keys()));
      assertEquals("pt", f.metadata().get("format"));
      JsonNode meta = new ObjectMapper().readTree(f.metadata().get("lora_adapter_metadata"));
      assertEquals(RANK, meta.get("unet.r").asInt());
      assertEquals(ALPHA, meta.get("unet.lora_alpha").asDouble());
      assertTrue(meta.get("unet.target_modules").isArray());
      assertTrue(meta.get("unet.target_modules").toString().contains("\"to_out.0\""), meta.toString());
      assertTrue(meta.get("text_encoder.target_modules").toString().contains("\"q_proj\""), meta.toString());
    }
    LoraFile back = LoraFile.read(file, LoraTargets.of(folder.unetConfig(), folder.textEncoderConfig()));
    List<LoraAdapter> read = back.adapters(1.0);
    try (TensorScope s = TensorScope.open()) {
      List<LoraAdapter> all = new ArrayList<>(a.get(Part.UNET));
      all.addAll(a.get(Part.TEXT_ENCODER));
      assertEquals(all.size(), read.size());
      for (LoraAdapter r : read) {
        LoraAdapter w = all.stream().filter(x -> x.module().equals(r.module())).findFirst().orElseThrow();
        assertEquals(RANK, r.rank());
        assertEquals(ALPHA, r.alpha());
        assertArrayEquals(w.down().toFloatArray(), r.down().toFloatArray(), r.module());
        assertArrayEquals(w.up().toFloatArray(), r.up().toFloatArray(), r.module());
      }
    } finally {
      read.forEach(LoraAdapter::close);
      close(a);
    }
  }

  @Test
  void mergeWritesAFolderThatSamplesLikeTheLoraOnTheFly(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 2);
    ModelFolder folder = ModelFolder.open(model, null);
    Path file = writeLora(folder, tmp.resolve("l.safetensors"), 6);
    Path out = tmp.resolve("merged");
    byte[] live;
    try (LoraSource s = LoraSource.open(FolderSource.open(folder), List.of(new LoraSource.Spec(file, 0.8)))) {
      live = png(s);
      ModelWriter.write(s, out, "F32", line -> {});
    }
    assertEquals(List.of(), ModelFolder.open(out, null).problems());
    try (FolderSource s = FolderSource.open(ModelFolder.open(out, null))) {
      assertArrayEquals(live, png(s), "the merged folder samples the same image");
    }
  }

  @Test
  void filesThatDoNotFitAreOneLineErrors(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 2);
    ModelFolder folder = ModelFolder.open(model, null);
    LoraTargets targets = LoraTargets.of(folder.unetConfig(), folder.textEncoderConfig());
    String q = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q";
    Map<String, String[]> cases = new LinkedHashMap<>();
    cases.put("unknown layer", new String[] {"lora_unet_down_blocks_9_attentions_0_proj_in.lora_down.weight", "name no layer of this model"});
    cases.put("dora", new String[] {"unet." + q + ".lora_magnitude_vector", "DoRA"});
    cases.put("sdxl", new String[] {"lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "SDXL"});
    cases.put("shape", new String[] {"unet." + q + ".lora.down.weight", "do not fit the layer's weight [32, 32]"});
    for (Map.Entry<String, String[]> c : cases.entrySet()) {
      SafetensorsWriter w = new SafetensorsWriter();
      boolean shape = c.getKey().equals("shape");
      w.putF32(c.getValue()[0], new float[shape ? 2 * 7 : 4], shape ? new long[] {2, 7} : new long[] {4});
      if (shape) w.putF32("unet." + q + ".lora.up.weight", new float[32 * 2], 32, 2);
      Path f = tmp.resolve(c.getKey().replace(' ', '_') + ".safetensors");
      w.write(f);
      UserInputException e = assertThrows(UserInputException.class, () -> LoraFile.read(f, targets));
      assertTrue(e.getMessage().contains(c.getValue()[1]) && e.getMessage().startsWith(f.toString()),
          c.getKey() + ": " + e.getMessage());
    }
    // A LoRA trained for v-prediction (kohya's metadata) on an epsilon model: refused at load, naming both files.
    Path v = writeLora(folder, tmp.resolve("v.safetensors"), 7);
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile in = SafetensorsFile.open(v)) {
      for (String k : in.keys()) w.putF32(k, in.readFloats(k), in.info(k).shape());
      in.metadata().forEach(w::putMetadata);
    }
    w.putMetadata("ss_v_parameterization", "True");
    Files.delete(v);
    w.write(v);
    try (LoraSource s = LoraSource.open(FolderSource.open(folder), List.of(new LoraSource.Spec(v, 1)))) {
      List<String> p = ModelChecks.problems(s);
      assertEquals(List.of(model.resolve("scheduler/scheduler_config.json") + " has prediction_type epsilon but the LoRA file "
          + v + " (its metadata) declares v_prediction (sampling with the wrong one gives noise)"), p);
    }
  }

  static byte[] png(ModelSource s) throws Exception {
    try (DiffusersModel m = DiffusersModel.load(s, Device.CPU, DType.F32)) {
      BufferedImage img = new Txt2Img(m, Device.CPU).generate(new Txt2Img.Request("a red cube above a blue ball", "", 16,
          16, 2, 7.5, 11, 1));
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      ImageIO.write(img, "png", b);
      return b.toByteArray();
    }
  }

  private static double maxAbs(Tensor t) {
    float[] v = t.abs().toFloatArray();
    double m = 0;
    for (float x : v) m = Math.max(m, x);
    return m;
  }
}

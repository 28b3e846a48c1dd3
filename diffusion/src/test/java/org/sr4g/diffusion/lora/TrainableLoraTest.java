package org.sr4g.diffusion.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.FolderSource;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;
import org.sr4g.torch.AdamW;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/** Trainable adapters ({@link TrainableLora}) on the tiny random model: gradients, the written file, resume state. */
class TrainableLoraTest {
  static final TrainableLora.Config CONFIG = new TrainableLora.Config(4, 2, TrainableLora.Config.UNET_DEFAULT,
      TrainableLora.Config.TEXT_DEFAULT);

  /**
   * The keys diffusers 0.31 writes for adapters on {@code module}, derived from its naming rules rather than from
   * {@link LoraWriter}: {@code train_text_to_image_lora.py} (and the DreamBooth LoRA script for the text encoder) save
   * {@code convert_state_dict_to_diffusers(get_peft_model_state_dict(model))} with
   * {@code StableDiffusionPipeline.save_lora_weights(unet_lora_layers=…, text_encoder_lora_layers=…)}:
   *
   * <ol>
   *   <li>PEFT's state dict names the adapters {@code <module>.lora_A.weight} / {@code <module>.lora_B.weight} (the
   *       adapter name "default" removed);
   *   <li>{@code convert_state_dict_to_diffusers} (PEFT → DIFFUSERS) replaces, in each key, the first pattern of
   *       {@code PEFT_TO_DIFFUSERS} (a dict, tried in order) that occurs in it — the table below, copied as data;
   *       keys matching none (convolutions, feed-forward layers) keep the PEFT names;
   *   <li>{@code save_lora_weights} packs the UNet's under {@code "unet."} and the text encoder's under
   *       {@code "text_encoder."}.
   * </ol>
   */
  static List<String> diffusersKeys(Part part, String module) {
    String[][] peftToDiffusers = {
        {".q_proj.lora_B", ".q_proj.lora_linear_layer.up"}, {".q_proj.lora_A", ".q_proj.lora_linear_layer.down"},
        {".k_proj.lora_B", ".k_proj.lora_linear_layer.up"}, {".k_proj.lora_A", ".k_proj.lora_linear_layer.down"},
        {".v_proj.lora_B", ".v_proj.lora_linear_layer.up"}, {".v_proj.lora_A", ".v_proj.lora_linear_layer.down"},
        {".out_proj.lora_B", ".out_proj.lora_linear_layer.up"}, {".out_proj.lora_A", ".out_proj.lora_linear_layer.down"},
        {"to_k.lora_A", "to_k.lora.down"}, {"to_k.lora_B", "to_k.lora.up"},
        {"to_q.lora_A", "to_q.lora.down"}, {"to_q.lora_B", "to_q.lora.up"},
        {"to_v.lora_A", "to_v.lora.down"}, {"to_v.lora_B", "to_v.lora.up"},
        {"to_out.0.lora_A", "to_out.0.lora.down"}, {"to_out.0.lora_B", "to_out.0.lora.up"}};
    List<String> out = new ArrayList<>();
    for (String ab : new String[] {"lora_A", "lora_B"}) {
      String k = module + "." + ab + ".weight";
      for (String[] r : peftToDiffusers)
        if (k.contains(r[0])) {
          k = k.replace(r[0], r[1]);
          break;
        }
      out.add((part == Part.UNET ? "unet." : "text_encoder.") + k);
    }
    return out;
  }

  @Test
  void onlyTheAdaptersGetGradientsAndTheyStartAtTheBaseOutput(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    ModelFolder folder = ModelFolder.open(RandomModelFolder.write(tmp.resolve("model"), 2), null);
    LoraTargets targets = LoraTargets.of(folder.unetConfig(), folder.textEncoderConfig());
    long live = Torch.liveTensors();
    try (TrainableLora lora = TrainableLora.create(targets, CONFIG, 7, Device.CPU);
        FolderSource src = FolderSource.open(folder);
        UNet2DConditionModel base = UNet2DConditionModel.LOADER.load(folder.unetConfig(), src.weights(Part.UNET), Device.CPU);
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(folder.unetConfig(), src.weights(Part.UNET), Device.CPU,
            DType.F32, lora.adapters().get(Part.UNET));
        TensorScope scope = TensorScope.open();
        Generator g = new Generator(Device.CPU, 1)) {
      // every to_q/to_k/to_v/to_out.0 of the tiny UNet (2 transformer blocks × 2 attentions × 4 … ) and q/k/v/out_proj
      // of both CLIP layers
      long unetLayers = targets.layers(Part.UNET).keySet().stream().filter(m -> m.matches(".*\\.(to_[qkv]|to_out\\.0)")).count();
      assertEquals(2 * unetLayers, lora.params(Part.UNET).list().size());
      assertEquals(2 * 4 * folder.textEncoderConfig().numLayers(), lora.params(Part.TEXT_ENCODER).list().size());
      for (Tensor t : unet.params().list()) t.requiresGrad(false);
      Tensor x = Tensor.randn(g, DType.F32, 2, 4, 8, 8), t = Tensor.of(new float[] {10, 500}, 2);
      Tensor ctx = Tensor.randn(g, DType.F32, 2, 77, 32);
      Tensor out = unet.forward(x, t, ctx);
      try (ModeGuard ng = Autograd.noGrad()) {
        assertArrayEquals(base.forward(x, t, ctx).toFloatArray(), out.detach().toFloatArray(),
            "B = 0: the adapted UNet computes the base output exactly");
      }
      Nn.mseLoss(out, Tensor.randn(g, DType.F32, 2, 4, 8, 8)).backward();
      for (Tensor p : unet.params().list()) assertNull(p.grad(), "a frozen base weight got a gradient");
      for (Map.Entry<String, Tensor> e : lora.params(Part.UNET).named().entrySet()) {
        Tensor gr = e.getValue().grad();
        assertNotNull(gr, e.getKey());
        double n = maxAbs(gr);
        // B = 0 at the start, so A's gradient (Bᵀ·…) is exactly zero and B's is not.
        if (e.getKey().contains(".down.")) assertEquals(0.0, n, e.getKey());
        else assertTrue(n > 0, e.getKey() + " has a zero gradient");
      }
      // One AdamW step on the adapters moves B; the next backward reaches A too.
      try (AdamW opt = new AdamW(lora.params(Part.UNET).list(), 1e-2)) {
        opt.step();
        Autograd.zeroGrad(lora.all());
        Nn.mseLoss(unet.forward(x, t, ctx), Tensor.randn(g, DType.F32, 2, 4, 8, 8)).backward();
        for (Map.Entry<String, Tensor> e : lora.params(Part.UNET).named().entrySet())
          assertTrue(maxAbs(e.getValue().grad()) > 0, e.getKey() + " after one step");
      }
    }
    assertEquals(live, Torch.liveTensors(), "every handle freed");
  }

  @Test
  void theFileHasDiffusersKeysMergesToTheAttachedModelAndResumesExactly(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    ModelFolder folder = ModelFolder.open(RandomModelFolder.write(tmp.resolve("model"), 2), null);
    LoraTargets targets = LoraTargets.of(folder.unetConfig(), folder.textEncoderConfig());
    // Also a convolution target (proj_in is a 1×1 convolution in the tiny model) and a feed-forward layer.
    TrainableLora.Config c = new TrainableLora.Config(3, 6, List.of("to_q", "to_k", "to_v", "to_out.0", "proj_in", "ff.net.2"),
        TrainableLora.Config.TEXT_DEFAULT);
    Path file = tmp.resolve(LoraWriter.FILE_NAME);
    long live = Torch.liveTensors();
    try (TrainableLora lora = TrainableLora.create(targets, c, 3, Device.CPU);
        Generator g = new Generator(Device.CPU, 5);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      for (Tensor p : lora.all()) p.copyFrom(Tensor.randn(g, DType.F32, p.shape()).mul(0.05)); // "trained"
      lora.write(file);
      // 1. Key names against diffusers' rules, and the metadata.
      TreeSet<String> expected = new TreeSet<>();
      for (Part part : List.of(Part.UNET, Part.TEXT_ENCODER))
        for (String m : targets.layers(part).keySet())
          if (part == Part.UNET ? m.matches(".*\\.(to_[qkv]|to_out\\.0|proj_in|ff\\.net\\.2)")
              : m.matches(".*\\.(q_proj|k_proj|v_proj|out_proj)")) expected.addAll(diffusersKeys(part, m));
      try (SafetensorsFile f = SafetensorsFile.open(file)) {
        assertEquals(expected, new TreeSet<>(f.keys()));
        assertTrue(f.keys().contains("unet.mid_block.attentions.0.transformer_blocks.0.attn1.to_out.0.lora.down.weight"));
        assertTrue(f.keys().contains("unet.down_blocks.0.attentions.0.proj_in.lora_A.weight"));
        assertTrue(f.keys().contains("text_encoder.text_model.encoder.layers.1.self_attn.out_proj.lora_linear_layer.up.weight"));
        assertEquals("pt", f.metadata().get("format"));
        JsonNode meta = new ObjectMapper().readTree(f.metadata().get("lora_adapter_metadata"));
        assertEquals(3, meta.get("unet.r").asInt());
        assertEquals(6.0, meta.get("unet.lora_alpha").asDouble());
        assertEquals(3, meta.get("text_encoder.r").asInt());
        assertEquals("[\"ff.net.2\",\"proj_in\",\"to_k\",\"to_out.0\",\"to_q\",\"to_v\"]", meta.get("unet.target_modules").toString());
      }
      // 2. Merged (LoraSource, weights W + α/r·B·A) = the trained adapters attached, within 1e-6 of the output.
      Tensor x = Tensor.randn(g, DType.F32, 2, 4, 8, 8), t = Tensor.of(new float[] {10, 500}, 2);
      Tensor ctx = Tensor.randn(g, DType.F32, 2, 77, 32);
      Tensor merged, attached, base;
      try (LoraSource ls = LoraSource.open(FolderSource.open(folder), List.of(new LoraSource.Spec(file, 1)));
          FolderSource plain = FolderSource.open(folder);
          UNet2DConditionModel m = UNet2DConditionModel.LOADER.load(folder.unetConfig(), ls.weights(Part.UNET), Device.CPU);
          UNet2DConditionModel a = UNet2DConditionModel.LOADER.load(folder.unetConfig(), plain.weights(Part.UNET), Device.CPU,
              DType.F32, lora.adapters().get(Part.UNET));
          UNet2DConditionModel b = UNet2DConditionModel.LOADER.load(folder.unetConfig(), plain.weights(Part.UNET), Device.CPU)) {
        assertEquals(LoraFile.Layout.DIFFUSERS, ls.files().get(0).layout());
        merged = m.forward(x, t, ctx);
        attached = a.forward(x, t, ctx);
        base = b.forward(x, t, ctx);
        Tensor ids = Tensor.of(ls.tokenizer().tokenize("a cat above a dog"), 1, 77);
        try (ClipTextModel tm = ClipTextModel.LOADER.load(folder.textEncoderConfig(), ls.weights(Part.TEXT_ENCODER), Device.CPU);
            ClipTextModel ta = ClipTextModel.LOADER.load(folder.textEncoderConfig(), plain.weights(Part.TEXT_ENCODER), Device.CPU,
                DType.F32, lora.adapters().get(Part.TEXT_ENCODER))) {
          Tensor em = tm.encode(ids, 1);
          double d = maxAbs(em.sub(ta.encode(ids, 1)));
          assertTrue(d <= 1e-6 * Math.max(1, maxAbs(em)), "text encoder merged vs attached: " + d);
        }
      }
      double diff = maxAbs(merged.sub(attached)), scale = maxAbs(merged);
      double effect = maxAbs(merged.sub(base));
      System.out.printf("trained LoRA: max|merged - (base + adapters)| = %.3g, max|out| = %.3g, effect %.3g%n", diff,
          scale, effect);
      assertTrue(diff <= 1e-6 * Math.max(1, scale), "merged vs attached: " + diff);
      assertTrue(effect > 1e-3, "the adapters change the output: " + effect);
      // 3. The same weights in kohya's layout (lora_unet_<module with _>.lora_down/up.weight, .alpha) merge to the
      //    same UNet, tensor for tensor.
      Path kohya = tmp.resolve("kohya.safetensors");
      SafetensorsWriter w = new SafetensorsWriter();
      for (Part part : List.of(Part.UNET, Part.TEXT_ENCODER))
        for (Map.Entry<String, LayerAdapterView> e : views(lora, part).entrySet()) {
          String name = (part == Part.UNET ? "lora_unet_" : "lora_te_") + e.getKey().replace('.', '_');
          w.putF32(name + ".lora_down.weight", e.getValue().down().contiguous().toFloatArray(), e.getValue().down().shape());
          w.putF32(name + ".lora_up.weight", e.getValue().up().contiguous().toFloatArray(), e.getValue().up().shape());
          w.putF32(name + ".alpha", new float[] {6f});
        }
      w.write(kohya);
      Map<String, float[]> a = mergedUnet(folder, file), k = mergedUnet(folder, kohya);
      assertEquals(a.keySet(), k.keySet());
      for (String key : a.keySet()) assertArrayEquals(a.get(key), k.get(key), key);
      // 4. Resume: a fresh set loads the file back bit for bit; another rank or other targets are refused.
      try (TrainableLora back = TrainableLora.create(targets, c, 99, Device.CPU)) {
        back.load(file);
        for (Part part : List.of(Part.UNET, Part.TEXT_ENCODER))
          for (Map.Entry<String, Tensor> e : lora.params(part).named().entrySet())
            assertArrayEquals(e.getValue().toFloatArray(), back.params(part).get(e.getKey()).toFloatArray(), e.getKey());
      }
      try (TrainableLora other = TrainableLora.create(targets, new TrainableLora.Config(2, 6, c.unetTargets(),
          c.textTargets()), 1, Device.CPU)) {
        assertTrue(assertThrows(UserInputException.class, () -> other.load(file)).getMessage().contains("--lora-rank"));
      }
      try (TrainableLora other = TrainableLora.create(targets, new TrainableLora.Config(3, 6, c.unetTargets(),
          List.of()), 1, Device.CPU)) {
        assertTrue(assertThrows(UserInputException.class, () -> other.load(file)).getMessage().contains("tensors"));
      }
    }
    assertEquals(live, Torch.liveTensors(), "every handle freed");
  }

  @Test
  void targetsThatMatchNothingAreOneLineErrors(@TempDir Path tmp) {
    NativeAssume.torch();
    ModelFolder folder = ModelFolder.open(RandomModelFolder.write(tmp.resolve("model"), 2), null);
    LoraTargets targets = LoraTargets.of(folder.unetConfig(), folder.textEncoderConfig());
    UserInputException e = assertThrows(UserInputException.class, () -> TrainableLora.create(targets,
        new TrainableLora.Config(4, Double.NaN, List.of("to_q", "to_x"), List.of()), 0, Device.CPU));
    assertTrue(e.getMessage().contains("[to_x]"), e.getMessage());
    assertThrows(UserInputException.class, () -> TrainableLora.create(targets,
        new TrainableLora.Config(0, Double.NaN, List.of("to_q"), List.of()), 0, Device.CPU));
    assertThrows(UserInputException.class, () -> TrainableLora.create(targets,
        new TrainableLora.Config(4, -1, List.of("to_q"), List.of()), 0, Device.CPU));
  }

  record LayerAdapterView(Tensor down, Tensor up) {}

  /** module → (A, B) of {@code part}, from the parameter names. */
  private static Map<String, LayerAdapterView> views(TrainableLora lora, Part part) {
    Map<String, LayerAdapterView> out = new LinkedHashMap<>();
    lora.adapters().get(part).forEach((m, a) -> out.put(m, new LayerAdapterView(((LoraAdapter) a).down(), ((LoraAdapter) a).up())));
    return out;
  }

  private static Map<String, float[]> mergedUnet(ModelFolder folder, Path file) {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (LoraSource s = LoraSource.open(FolderSource.open(folder), List.of(new LoraSource.Spec(file, 1)));
        TensorScope scope = TensorScope.open()) {
      for (String key : new TreeSet<>(s.weights(Part.UNET).keys())) out.put(key, s.weights(Part.UNET).loadF32(key).toFloatArray());
    }
    return out;
  }

  private static double maxAbs(Tensor t) {
    float[] v = t.abs().contiguous().toFloatArray();
    double m = 0;
    for (float x : v) m = Math.max(m, x);
    return m;
  }
}

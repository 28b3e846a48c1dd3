package org.sr4g.diffusion.singlefile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
import org.sr4g.diffusion.PipelineConfigs;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.diffusion.Txt2Img;
import org.sr4g.diffusion.models.AutoencoderKl;
import org.sr4g.diffusion.models.AutoencoderKlConfig;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.models.Weights;
import org.sr4g.diffusion.pytorch.TorchZipWriter;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;
import org.sr4g.hub.HfCache;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * Single-file LDM checkpoints: the key map against names known from the published SD 1.5 / 2.x files, and a file
 * built from the tiny random model by renaming its tensors to the LDM layout, which must load back to identical
 * tensors, the same image, and (through {@code ModelWriter}) the same diffusers files.
 */
class SingleFileSourceTest {

  /** LDM names as they appear in runwayml/stable-diffusion-v1-5's v1-5-pruned-emaonly.safetensors (and diffusers' tables). */
  @Test
  void keyMapMatchesTheNamesOfTheReleasedSd15File() {
    PipelineConfigs c = PipelineConfigs.sd15();
    UNetConfig u = UNetConfig.fromJson(c.unet(), "sd15");
    Map<String, String> unet = Map.of(
        "conv_in.weight", "input_blocks.0.0.weight",
        "time_embedding.linear_2.bias", "time_embed.2.bias",
        "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight", "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight",
        "down_blocks.0.downsamplers.0.conv.weight", "input_blocks.3.0.op.weight",
        "down_blocks.1.resnets.0.conv_shortcut.weight", "input_blocks.4.0.skip_connection.weight",
        "down_blocks.3.resnets.1.time_emb_proj.bias", "input_blocks.11.0.emb_layers.1.bias",
        "mid_block.resnets.1.norm1.weight", "middle_block.2.in_layers.0.weight",
        "mid_block.attentions.0.proj_out.weight", "middle_block.1.proj_out.weight",
        "up_blocks.0.upsamplers.0.conv.weight", "output_blocks.2.1.conv.weight",
        "up_blocks.1.upsamplers.0.conv.weight", "output_blocks.5.2.conv.weight");
    unet.forEach((d, l) -> assertEquals(LdmKeys.UNET_PREFIX + l, LdmKeys.unet(d, u), d));
    // diffusers' CHECKPOINT_KEY_NAMES["v1"], the key it recognises SD 1.x by:
    assertEquals("model.diffusion_model.output_blocks.11.0.skip_connection.weight",
        LdmKeys.unet("up_blocks.3.resnets.2.conv_shortcut.weight", u));
    assertEquals("model.diffusion_model.out.0.weight", LdmKeys.unet("conv_norm_out.weight", u));
    assertEquals("model.diffusion_model.output_blocks.11.0.out_layers.3.weight", LdmKeys.unet("up_blocks.3.resnets.2.conv2.weight", u));
    assertEquals("model_ema.diffusion_modelinput_blocks00weight", LdmKeys.ema("model.diffusion_model.input_blocks.0.0.weight"));

    Map<String, String> vae = Map.of(
        "encoder.conv_norm_out.bias", "encoder.norm_out.bias",
        "encoder.down_blocks.1.resnets.0.conv_shortcut.weight", "encoder.down.1.block.0.nin_shortcut.weight",
        "encoder.down_blocks.0.downsamplers.0.conv.weight", "encoder.down.0.downsample.conv.weight",
        "decoder.up_blocks.0.resnets.0.conv1.weight", "decoder.up.3.block.0.conv1.weight",
        "decoder.up_blocks.2.upsamplers.0.conv.weight", "decoder.up.1.upsample.conv.weight",
        "decoder.mid_block.resnets.1.norm2.bias", "decoder.mid.block_2.norm2.bias",
        "decoder.mid_block.attentions.0.to_out.0.weight", "decoder.mid.attn_1.proj_out.weight",
        "encoder.mid_block.attentions.0.group_norm.weight", "encoder.mid.attn_1.norm.weight",
        "post_quant_conv.weight", "post_quant_conv.weight");
    vae.forEach((d, l) -> assertEquals(LdmKeys.VAE_PREFIX + l, LdmKeys.vae(d, 4), d));
    assertEquals("cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc2.weight",
        LdmKeys.clip("text_model.encoder.layers.11.mlp.fc2.weight", true));
    assertEquals(new LdmKeys.OpenClipKey("cond_stage_model.model.transformer.resblocks.5.attn.in_proj_bias", 1),
        LdmKeys.openClip("text_model.encoder.layers.5.self_attn.k_proj.bias"));
    assertEquals(new LdmKeys.OpenClipKey("cond_stage_model.model.positional_embedding", -1),
        LdmKeys.openClip("text_model.embeddings.position_embedding.weight"));
    assertEquals(new LdmKeys.OpenClipKey("cond_stage_model.model.transformer.resblocks.22.mlp.c_proj.weight", -1),
        LdmKeys.openClip("text_model.encoder.layers.22.mlp.fc2.weight"));

    // Every parameter of the full-size models has exactly one LDM key: 686 UNet, 248 VAE, 196 CLIP-L, 372 OpenCLIP (23 layers).
    assertDistinct(UNet2DConditionModel.LOADER.parameterShapes(u).keySet().stream().map(k -> LdmKeys.unet(k, u)).toList(), 686);
    assertDistinct(AutoencoderKl.LOADER.parameterShapes(AutoencoderKlConfig.fromJson(c.vae(), "vae")).keySet().stream()
        .map(k -> LdmKeys.vae(k, 4)).toList(), 248);
    UNetConfig u2 = UNetConfig.fromJson(PipelineConfigs.sd21(true).unet(), "sd21");
    assertDistinct(UNet2DConditionModel.LOADER.parameterShapes(u2).keySet().stream().map(k -> LdmKeys.unet(k, u2)).toList(), 686);
    List<String> open = ClipTextModel.LOADER.parameterShapes(ClipTextConfig.fromJson(PipelineConfigs.sd21(true).textEncoder(), "te"))
        .keySet().stream().map(k -> LdmKeys.openClip(k).key() + "#" + LdmKeys.openClip(k).third()).toList();
    assertDistinct(open, 372);
  }

  private static void assertDistinct(List<String> keys, int n) {
    assertEquals(n, keys.size());
    assertTrue(keys.stream().noneMatch(k -> k == null || k.contains("null")), keys::toString);
    assertEquals(n, new HashSet<>(keys).size(), "distinct");
  }

  static SingleFileSource.Options tinyOptions(Path tokenizer) {
    return new SingleFileSource.Options(null, false, tokenizer, PipelineConfigs.tiny(), HfCache.at(Path.of("/nonexistent")));
  }

  @Test
  void aFileRenamedToTheLdmLayoutLoadsBackIdenticalTensorsAndTheSameImage(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path folder = RandomModelFolder.write(tmp.resolve("model"), 5);
    for (boolean openClip : new boolean[] {false, true}) {
      Path file = LdmFixture.write(ModelFolder.open(folder, null), tmp.resolve("m" + openClip + ".safetensors"),
          new LdmFixture.Layout(openClip, false, true, Map.of()));
      try (FolderSource base = FolderSource.open(ModelFolder.open(folder, null));
          SingleFileSource single = SingleFileSource.open(file, tinyOptions(folder.resolve("tokenizer")))) {
        for (Part p : List.of(Part.UNET, Part.VAE, Part.TEXT_ENCODER)) assertSameTensors(base.weights(p), single.weights(p));
        assertEquals(List.of(), ModelChecks.problems(single));
        BufferedImage a = sample(base), b = sample(single);
        assertTrue(samePixels(a, b), "the same image from the single file (openClip " + openClip + ")");
      }
    }
  }

  @Test
  void convertWritesTheSameDiffusersFiles(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path folder = RandomModelFolder.write(tmp.resolve("model"), 5);
    Path file = LdmFixture.write(ModelFolder.open(folder, null), tmp.resolve("m.safetensors"), LdmFixture.Layout.sd1());
    Path out = tmp.resolve("converted");
    try (SingleFileSource single = SingleFileSource.open(file, tinyOptions(folder.resolve("tokenizer")))) {
      ModelWriter.write(single, out, "F32", line -> {});
    }
    assertEquals(List.of(), ModelFolder.open(out, null).problems());
    for (String f : List.of("unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors",
        "text_encoder/model.safetensors", "tokenizer/vocab.json", "tokenizer/merges.txt"))
      assertArrayEquals(Files.readAllBytes(folder.resolve(f)), Files.readAllBytes(out.resolve(f)), f);
    UserInputException e = assertThrows(UserInputException.class, () -> {
      try (SingleFileSource s = SingleFileSource.open(file, tinyOptions(folder.resolve("tokenizer")))) {
        ModelWriter.write(s, out, "F32", line -> {});
      }
    });
    assertTrue(e.getMessage().contains("already exists"), e.getMessage());
  }

  @Test
  void emaCopiesAreChosenAsDiffusersDoes(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path folder = RandomModelFolder.write(tmp.resolve("model"), 5);
    ModelFolder mf = ModelFolder.open(folder, null);
    Path both = LdmFixture.write(mf, tmp.resolve("both.safetensors"), new LdmFixture.Layout(false, true, true, Map.of()));
    Path emaOnly = LdmFixture.write(mf, tmp.resolve("ema.safetensors"), new LdmFixture.Layout(false, true, false, Map.of()));
    String key = "conv_in.weight";
    float[] regular, ema;
    try (FolderSource base = FolderSource.open(mf); TensorScope s = TensorScope.open()) {
      regular = base.weights(Part.UNET).loadF32(key).toFloatArray();
      ema = LdmFixture.scaled(regular, 0.5f);
    }
    Path tok = folder.resolve("tokenizer");
    try (SingleFileSource d = SingleFileSource.open(both, tinyOptions(tok));
        SingleFileSource x = SingleFileSource.open(both, new SingleFileSource.Options(null, true, tok, PipelineConfigs.tiny(), HfCache.at(tmp)));
        SingleFileSource o = SingleFileSource.open(emaOnly, tinyOptions(tok));
        TensorScope s = TensorScope.open()) {
      assertArrayEquals(regular, d.weights(Part.UNET).loadF32(key).toFloatArray(), "default: the regular weights");
      assertTrue(String.join("\n", d.notes()).contains("--extract-ema"), d.notes()::toString);
      assertArrayEquals(ema, x.weights(Part.UNET).loadF32(key).toFloatArray(), "--extract-ema");
      assertArrayEquals(ema, o.weights(Part.UNET).loadF32(key).toFloatArray(), "only EMA weights: those");
    }
  }

  @Test
  void otherArchitecturesAndBrokenFilesAreOneLineErrors(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path folder = RandomModelFolder.write(tmp.resolve("model"), 5);
    Path tok = folder.resolve("tokenizer");
    Map<String, String> cases = Map.of(
        "sdxl", "an SDXL checkpoint",
        "inpaint", "(an inpainting checkpoint)",
        "diffusers", "it looks like one diffusers component",
        "sd1", "does not fit the SD 1.x layout",
        "sd2", "does not fit the SD 2.x (768 px, v-prediction) layout",
        "sd2base", "does not fit the SD 2.x (512 px, epsilon) layout");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      SafetensorsWriter w = new SafetensorsWriter();
      String conv = LdmKeys.UNET_PREFIX + "input_blocks.0.0.weight";
      String toK = LdmKeys.UNET_PREFIX + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight";
      switch (c.getKey()) {
        case "sdxl" -> w.putF32("conditioner.embedders.0.transformer.x", new float[1], 1);
        case "inpaint" -> w.putF32(conv, new float[320 * 9 * 9], 320, 9, 3, 3);
        case "diffusers" -> w.putF32("conv_in.weight", new float[1], 1);
        default -> {
          w.putF32(conv, new float[320 * 4 * 9], 320, 4, 3, 3);
          int width = c.getKey().equals("sd1") ? 768 : 1024;
          w.putF32(toK, new float[320 * width], 320, width);
          if (c.getKey().equals("sd2base")) w.putMetadata("modelspec.prediction_type", "epsilon");
        }
      }
      Path f = tmp.resolve(c.getKey() + ".safetensors");
      w.write(f);
      UserInputException e = assertThrows(UserInputException.class, () -> SingleFileSource.open(f,
          new SingleFileSource.Options(null, false, tok, null, HfCache.at(tmp))));
      assertTrue(e.getMessage().contains(c.getValue()) && !e.getMessage().contains("\n"), c.getKey() + ": " + e.getMessage());
    }
    // A tensor no parameter uses under the UNet's prefix, and a missing one, named with their LDM and diffusers keys.
    Path good = LdmFixture.write(ModelFolder.open(folder, null), tmp.resolve("g.safetensors"), LdmFixture.Layout.sd1());
    SafetensorsWriter w = new SafetensorsWriter();
    try (org.sr4g.diffusion.safetensors.SafetensorsFile in = org.sr4g.diffusion.safetensors.SafetensorsFile.open(good)) {
      for (String k : in.keys()) {
        if (k.equals("model.diffusion_model.out.2.bias") || in.info(k).dtype().equals("I64")) continue;
        w.putF32(k, in.readFloats(k), in.info(k).shape());
      }
    }
    w.putF32("model.diffusion_model.input_blocks.1.1.extra.weight", new float[2], 2);
    Path bad = tmp.resolve("bad.safetensors");
    w.write(bad);
    UserInputException e = assertThrows(UserInputException.class, () -> SingleFileSource.open(bad, tinyOptions(tok)));
    assertTrue(e.getMessage().contains("missing model.diffusion_model.out.2.bias (unet conv_out.bias)")
        && e.getMessage().contains("unexpected model.diffusion_model.input_blocks.1.1.extra.weight [2]"), e.getMessage());

    Path ckpt = Files.writeString(tmp.resolve("v1-5.ckpt"), "PK pickle");
    e = assertThrows(UserInputException.class, () -> SingleFileSource.open(ckpt, tinyOptions(tok)));
    assertTrue(e.getMessage().startsWith(ckpt.toString()) && !e.getMessage().contains("\n"), e.getMessage());
  }

  /**
   * The LDM fixture saved as a Lightning {@code .ckpt} ({@code {"global_step": N, "state_dict": {...}}}, as the original
   * SD releases are) loads to the very tensors of its {@code .safetensors} form and the same image, with its
   * global_step; a {@code .ckpt} whose pickle calls {@code os.system} is refused in one line and nothing runs.
   */
  @Test
  void aCkptLoadsLikeItsSafetensorsAndAHostileOneIsRefused(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path folder = RandomModelFolder.write(tmp.resolve("model"), 5);
    Path st = LdmFixture.write(ModelFolder.open(folder, null), tmp.resolve("m.safetensors"), LdmFixture.Layout.sd1());
    Path ckpt = tmp.resolve("m.ckpt");
    TorchZipWriter.ckptFromSafetensors(st, ckpt, 470000);
    try (SingleFileSource a = SingleFileSource.open(st, tinyOptions(folder.resolve("tokenizer")));
        SingleFileSource b = SingleFileSource.open(ckpt, tinyOptions(folder.resolve("tokenizer")))) {
      assertEquals(470000L, b.globalStep());
      assertEquals(null, a.globalStep());
      for (Part p : List.of(Part.UNET, Part.VAE, Part.TEXT_ENCODER)) assertSameTensors(a.weights(p), b.weights(p));
      assertTrue(samePixels(sample(a), sample(b)), "the same image from the .ckpt");
    }
    Path marker = tmp.resolve("pwned");
    byte[] pickle = new TorchZipWriter.Pickle().proto().global("os", "system").string("touch " + marker.toAbsolutePath())
        .tuple1().reduce().stop().bytes();
    Path hostile = tmp.resolve("hostile.ckpt");
    TorchZipWriter.writePickle(hostile, pickle);
    UserInputException e = assertThrows(UserInputException.class,
        () -> SingleFileSource.open(hostile, tinyOptions(folder.resolve("tokenizer"))));
    assertTrue(e.getMessage().startsWith(hostile.toString()) && e.getMessage().contains("global os.system is not allowed")
        && !e.getMessage().contains("\n"), e.getMessage());
    assertFalse(Files.exists(marker), "nothing from the pickle ran");
  }

  @Test
  void predictionTypeFromMetadataAndItsContradiction(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path folder = RandomModelFolder.write(tmp.resolve("model"), 5);
    Path file = LdmFixture.write(ModelFolder.open(folder, null), tmp.resolve("v.safetensors"),
        new LdmFixture.Layout(false, false, true, Map.of("modelspec.prediction_type", "v")));
    Path tok = folder.resolve("tokenizer");
    try (SingleFileSource s = SingleFileSource.open(file, tinyOptions(tok))) {
      assertEquals("v_prediction", s.schedulerConfig().predictionType(), "taken from the file's metadata");
      assertEquals(List.of(), ModelChecks.problems(s));
    }
    try (SingleFileSource s = SingleFileSource.open(file,
        new SingleFileSource.Options("epsilon", false, tok, PipelineConfigs.tiny(), HfCache.at(tmp)))) {
      List<String> p = ModelChecks.problems(s);
      assertEquals(1, p.size(), p::toString);
      assertTrue(p.get(0).contains("has prediction_type epsilon but " + file + "'s modelspec.prediction_type metadata"
          + " declares v_prediction"), p.get(0));
      UserInputException e = assertThrows(UserInputException.class, () -> DiffusersModel.load(s, Device.CPU, DType.F32));
      assertEquals(p.get(0), e.getMessage());
    }
  }

  @Test
  void tokenizerIsFoundBesideTheFileOrInTheHubCache(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path folder = RandomModelFolder.write(tmp.resolve("model"), 5);
    Path dir = Files.createDirectories(tmp.resolve("downloads"));
    Path file = LdmFixture.write(ModelFolder.open(folder, null), dir.resolve("m.safetensors"), LdmFixture.Layout.sd1());
    HfCache cache = HfCache.at(tmp.resolve("hub"));
    SingleFileSource.Options none = new SingleFileSource.Options(null, false, null, PipelineConfigs.tiny(), cache);
    UserInputException e = assertThrows(UserInputException.class, () -> SingleFileSource.open(file, none));
    assertTrue(e.getMessage().contains("carries no tokenizer") && e.getMessage().contains(dir.resolve("tokenizer").toString())
        && e.getMessage().contains(tmp.resolve("hub").toString()), e.getMessage());

    // In the cache, as `huggingface-cli download openai/clip-vit-large-patch14 vocab.json merges.txt` leaves it.
    String commit = "0123456789abcdef0123456789abcdef01234567";
    Path repo = tmp.resolve("hub/models--openai--clip-vit-large-patch14");
    Files.createDirectories(repo.resolve("refs"));
    Files.writeString(repo.resolve("refs/main"), commit);
    Files.createDirectories(repo.resolve("blobs"));
    Path snap = Files.createDirectories(repo.resolve("snapshots/" + commit));
    for (String f : List.of("vocab.json", "merges.txt")) {
      Files.copy(folder.resolve("tokenizer/" + f), repo.resolve("blobs/" + f.hashCode()));
      Files.createSymbolicLink(snap.resolve(f), Path.of("../../blobs/" + f.hashCode()));
    }
    try (SingleFileSource s = SingleFileSource.open(file, none)) {
      assertEquals(snap, s.tokenizerDir());
    }
    // Beside the file wins over the cache.
    Files.createDirectories(dir.resolve("tokenizer"));
    for (String f : List.of("vocab.json", "merges.txt")) Files.copy(folder.resolve("tokenizer/" + f), dir.resolve("tokenizer/" + f));
    try (SingleFileSource s = SingleFileSource.open(file, none)) {
      assertEquals(dir.resolve("tokenizer"), s.tokenizerDir());
    }
  }

  private static void assertSameTensors(Weights a, Weights b) {
    assertEquals(a.keys(), b.keys());
    try (TensorScope s = TensorScope.open()) {
      for (String k : a.keys()) {
        assertArrayEquals(a.shape(k), b.shape(k), k);
        Tensor x = a.loadF32(k), y = b.loadF32(k);
        assertArrayEquals(x.toFloatArray(), y.toFloatArray(), k);
      }
    }
  }

  static BufferedImage sample(ModelSource s) {
    try (DiffusersModel m = DiffusersModel.load(s, Device.CPU, DType.F32)) {
      return new Txt2Img(m, Device.CPU).generate(new Txt2Img.Request("a cat to the left of a dog", "", 16, 16, 2, 7.5, 3, 1));
    }
  }

  static boolean samePixels(BufferedImage a, BufferedImage b) {
    if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) return false;
    Set<Integer> distinct = new HashSet<>();
    for (int y = 0; y < a.getHeight(); y++)
      for (int x = 0; x < a.getWidth(); x++) {
        if (a.getRGB(x, y) != b.getRGB(x, y)) return false;
        distinct.add(a.getRGB(x, y));
      }
    return distinct.size() > 1;
  }
}

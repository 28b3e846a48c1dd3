package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;
import org.sr4g.diffusion.tokenizer.ByteVocabulary;
import org.sr4g.testing.SharedData;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/** A diffusers folder assembled in a temp dir from the golden fixtures (UNet and VAE as the .fp16 variant files). */
class DiffusersModelTest {

  static Path buildFolder(Path dir, boolean fp16Variant) throws IOException {
    Path golden = SharedData.require("golden/README.md").getParent();
    String w = fp16Variant ? "diffusion_pytorch_model.fp16.safetensors" : "diffusion_pytorch_model.safetensors";
    copy(golden.resolve("unet_a.config.json"), dir.resolve("unet/config.json"));
    copy(golden.resolve("unet_a.weights.safetensors"), dir.resolve("unet/" + w));
    copy(golden.resolve("vae.config.json"), dir.resolve("vae/config.json"));
    copy(golden.resolve("vae.weights.safetensors"), dir.resolve("vae/" + w));
    copy(golden.resolve("clip_text.config.json"), dir.resolve("text_encoder/config.json"));
    copy(golden.resolve("clip_text.weights.safetensors"), dir.resolve("text_encoder/model.safetensors"));
    // The golden text encoder has 1000 token embeddings: CLIP's 49 408-token vocabulary does not fit it (ModelChecks
    // refuses that pair), the built-in 514-token byte vocabulary does.
    ByteVocabulary.write(dir.resolve("tokenizer"), "<|endoftext|>");
    Files.createDirectories(dir.resolve("scheduler"));
    Files.writeString(dir.resolve("scheduler/scheduler_config.json"),
        "{\"_class_name\": \"PNDMScheduler\", \"beta_end\": 0.012, \"beta_schedule\": \"scaled_linear\","
            + " \"beta_start\": 0.00085, \"num_train_timesteps\": 1000, \"set_alpha_to_one\": false,"
            + " \"skip_prk_steps\": true, \"steps_offset\": 1, \"trained_betas\": null}"); // SD 1.5's
    Files.writeString(dir.resolve("model_index.json"), """
        {"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"],
         "vae": ["diffusers", "AutoencoderKL"], "text_encoder": ["transformers", "CLIPTextModel"],
         "tokenizer": ["transformers", "CLIPTokenizer"], "scheduler": ["diffusers", "PNDMScheduler"]}""");
    return dir;
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to.getParent());
    Files.copy(from, to);
  }

  @Test
  void loadsEveryGoldenFixtureThroughTheFolderLoader(@TempDir Path tmp) throws IOException {
    ModelGolden.requireTorch();
    Path dir = buildFolder(tmp, true);
    assertEquals(List.of(), ModelFolder.open(dir, "fp16").problems());
    try (DiffusersModel m = DiffusersModel.load(dir, "fp16", Device.CPU);
        ModelGolden clip = ModelGolden.open("clip_text");
        ModelGolden vae = ModelGolden.open("vae");
        ModelGolden unet = ModelGolden.open("unet_a");
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      assertEquals(514, m.tokenizer().vocabSize());
      assertEquals("PNDMScheduler", m.schedulerConfig().className());
      clip.check("output/last_hidden_state", m.textEncoder().forward(clip.input("input/input_ids")).lastHiddenState());
      vae.check("output/decoded", m.vae().decode(vae.input("input/latent")));
      vae.check("output/posterior_mean", m.vae().encode(vae.input("input/image")).mean());
      unet.check("output/sample", m.unet().forward(unet.input("input/sample"), unet.input("input/timestep"),
          unet.input("input/encoder_hidden_states")));
    }
  }

  @Test
  void variantFilesArePreferredAndPlainFilesAreTheFallback(@TempDir Path tmp) throws IOException {
    Path dir = buildFolder(tmp, true);
    ModelFolder noVariant = ModelFolder.open(dir, null);
    assertEquals(List.of(), noVariant.problems());
    assertTrue(noVariant.unetWeights().endsWith("unet/diffusion_pytorch_model.fp16.safetensors"));
    assertTrue(noVariant.textEncoderWeights().endsWith("text_encoder/model.safetensors"));
    Path plain = buildFolder(tmp.resolve("plain"), false);
    ModelFolder fp16 = ModelFolder.open(plain, "fp16");
    assertEquals(List.of(), fp16.problems());
    assertTrue(fp16.vaeWeights().endsWith("vae/diffusion_pytorch_model.safetensors"));
    Files.delete(plain.resolve("vae/diffusion_pytorch_model.safetensors"));
    Files.writeString(plain.resolve("vae/diffusion_pytorch_model.bin"), "pickle");
    assertEquals(List.of(plain.resolve("vae/diffusion_pytorch_model.fp16.safetensors")
        + ": missing (only safetensors is read; found diffusion_pytorch_model.bin)"), ModelFolder.open(plain, "fp16").problems());
  }

  @Test
  void componentsThatDoNotFitTogetherAreReported(@TempDir Path tmp) throws IOException {
    Path dir = buildFolder(tmp, false);
    Path unet = dir.resolve("unet/config.json");
    Files.writeString(unet, Files.readString(unet).replace("\"cross_attention_dim\": 32", "\"cross_attention_dim\": 48"));
    List<String> problems = ModelFolder.open(dir, null).problems();
    assertTrue(problems.contains(dir.resolve("text_encoder/config.json") + " has hidden_size 32 but "
        + dir.resolve("unet/config.json") + " has cross_attention_dim 48 (text encoder and UNet of different models?)"),
        problems::toString);
    Files.writeString(dir.resolve("model_index.json"), Files.readString(dir.resolve("model_index.json"))
        .replace("\"CLIPTextModel\"", "\"CLIPTextModelWithProjection\""));
    Files.writeString(dir.resolve("scheduler/scheduler_config.json"), "{\"_class_name\": \"LMSDiscreteScheduler\"}");
    String all = String.join("\n", ModelFolder.open(dir, null).problems());
    assertTrue(all.contains("text_encoder is CLIPTextModelWithProjection, only CLIPTextModel is supported"), all);
    assertTrue(all.contains("LMSDiscreteScheduler"), all);
  }

  @Test
  void brokenFolderNamesEveryBadKeyBeforeLoadingAnything(@TempDir Path tmp) throws IOException {
    ModelGolden.requireTorch();
    Path dir = buildFolder(tmp, false);
    // Rewrite the UNet checkpoint: one weight dropped, one with a wrong shape, one that no module uses.
    Path unet = dir.resolve("unet/diffusion_pytorch_model.safetensors");
    SafetensorsWriter out = new SafetensorsWriter();
    try (SafetensorsFile in = SafetensorsFile.open(unet)) {
      for (String k : in.keys()) {
        if (k.equals("conv_out.bias")) continue;
        if (k.equals("conv_in.weight")) out.putF16(k, new float[32 * 4 * 9], 32, 4, 9);
        else out.putF16(k, in.readFloats(k), in.info(k).shape());
      }
    }
    out.putF16("down_blocks.0.extra.weight", new float[] {1, 2}, 2);
    Files.delete(unet);
    out.write(unet);
    Files.delete(dir.resolve("vae/config.json"));
    Files.writeString(dir.resolve("text_encoder/config.json"), "{\"hidden_act\": \"relu\"}");

    List<String> problems = ModelFolder.open(dir, null).problems();
    String all = String.join("\n", problems);
    assertEquals(5, problems.size(), all);
    assertTrue(all.contains("vae/config.json: missing"), all);
    assertTrue(all.contains("hidden_act \"relu\" not supported"), all);
    assertTrue(all.contains("missing conv_out.bias [4]"), all);
    assertTrue(all.contains("wrong shape conv_in.weight: [32, 4, 9], expected [32, 4, 3, 3]"), all);
    assertTrue(all.contains("unexpected down_blocks.0.extra.weight [2]"), all);

    long live = Torch.liveTensors();
    UserInputException e = assertThrows(UserInputException.class, () -> DiffusersModel.load(dir, null, Device.CPU));
    assertTrue(e.getMessage().contains("5 problem(s)") && e.getMessage().contains("missing conv_out.bias"),
        e.getMessage());
    assertEquals(live, Torch.liveTensors(), "nothing was loaded");
  }
}

package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.diffusion.lora.LoraWriter;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;
import org.sr4g.torch.NativeAssume;

/**
 * {@code sr4g train --lora-rank} from the command line (tiny model, CPU): a run killed after step 3 ({@code
 * --halt-after-step}, Runtime.halt: no cleanup) resumes to the uninterrupted run's losses and byte-identical adapter
 * and optimizer files; the published file samples with {@code sr4g sample --lora}, at scale 0 byte for byte the base
 * model's image; {@code sr4g lora merge} of it and of the same weights in kohya's layout give the same UNet; user
 * mistakes are one line.
 */
class LoraTrainCommandTest {
  private static final String[] SAMPLE = {"--prompt", "a cat to the left of a dog", "--images-per-prompt", "1",
      "--steps", "2", "--width", "16", "--height", "16", "--seed", "4"};

  /** 8 steps of rank-4 adapters (α 8) with EMA, a checkpoint every 2 steps. */
  static List<String> lora(Path tmp, String out, String... extra) {
    List<String> a = new ArrayList<>(List.of("train", "--model", tmp.resolve("model").toString(), "--data",
        tmp.resolve("train.jsonl").toString(), "--images", tmp.resolve("images").toString(), "--out",
        tmp.resolve(out).toString(), "--resolution", "16", "--batch-size", "2", "--max-steps", "8", "--lr", "1e-2",
        "--seed", "9", "--checkpoint-every", "2", "--random-flip", "--random-crop", "--ema", "--lora-rank", "4",
        "--lora-alpha", "8"));
    a.addAll(List.of(extra));
    return a;
  }

  @Test
  void killedRunResumesExactlyAndTheFileSamplesAndMerges(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    TrainCommandTest.setup(tmp);
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp",
        System.getProperty("java.class.path"), Sr4g.class.getName()));
    cmd.addAll(lora(tmp, "killed", "--halt-after-step", "3"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS));
    assertEquals(137, p.exitValue(), Files.readString(tmp.resolve("child.log")));
    assertTrue(Files.readString(tmp.resolve("child.log")).contains("LoRA: rank 4, alpha 8.0"), Files.readString(tmp.resolve("child.log")));
    assertEquals(3, TrainCommandTest.losses(tmp.resolve("killed/metrics.jsonl")).size(), "step 3 ran, its checkpoint is not due");

    CliRun resumed = CliRun.of(lora(tmp, "killed", "--resume", "latest").toArray(String[]::new));
    assertEquals(0, resumed.code(), resumed.out() + resumed.err());
    assertTrue(resumed.out().contains("resumed from") && resumed.out().contains("at step 2"), resumed.out());
    CliRun straight = CliRun.of(lora(tmp, "straight").toArray(String[]::new));
    assertEquals(0, straight.code(), straight.out() + straight.err());
    Path file = tmp.resolve("straight").resolve(LoraWriter.FILE_NAME);
    assertTrue(straight.out().contains("LoRA: " + file), straight.out());
    assertEquals(TrainCommandTest.losses(tmp.resolve("straight/metrics.jsonl")),
        TrainCommandTest.losses(tmp.resolve("killed/metrics.jsonl")));
    for (String f : List.of(LoraWriter.FILE_NAME, "checkpoints/checkpoint-8/optimizer.safetensors",
        "checkpoints/checkpoint-8/pytorch_lora_weights_ema.safetensors"))
      assertArrayEquals(Files.readAllBytes(tmp.resolve("straight").resolve(f)), Files.readAllBytes(tmp.resolve("killed").resolve(f)), f);
    assertFalse(Files.exists(tmp.resolve("straight/model")));

    String model = tmp.resolve("model").toString();
    assertEquals(0, CliRun.of(sample(model, tmp.resolve("base"))).code());
    CliRun r = CliRun.of(sample(model, tmp.resolve("zero"), "--lora", file + ":0"));
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals(0, CliRun.of(sample(model, tmp.resolve("one"), "--lora", file.toString())).code());
    assertArrayEquals(image(tmp.resolve("base")), image(tmp.resolve("zero")), "scale 0: the base model's image");
    assertFalse(Arrays.equals(image(tmp.resolve("base")), image(tmp.resolve("one"))), "the trained adapters change it");

    // The same weights in kohya's layout (lora_unet_<module, . → _>.lora_down/lora_up.weight, alpha) merge to the
    // same UNet file, byte for byte.
    Path kohya = tmp.resolve("kohya.safetensors");
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      for (String k : f.keys()) {
        String module = k.substring("unet.".length(), k.lastIndexOf(".lora."));
        String name = "lora_unet_" + module.replace('.', '_');
        w.putF32(name + (k.endsWith(".lora.down.weight") ? ".lora_down.weight" : ".lora_up.weight"), f.readFloats(k),
            f.info(k).shape());
        if (k.endsWith(".lora.down.weight")) w.putF32(name + ".alpha", new float[] {8f});
      }
    }
    w.write(kohya);
    for (String[] m : List.of(new String[] {file.toString(), "merged"}, new String[] {kohya.toString(), "merged-kohya"})) {
      r = CliRun.of("lora", "merge", "--model", model, "--lora", m[0], "--out", tmp.resolve(m[1]).toString());
      assertEquals(0, r.code(), r.out() + r.err());
    }
    String unet = "unet/diffusion_pytorch_model.safetensors";
    assertArrayEquals(Files.readAllBytes(tmp.resolve("merged").resolve(unet)),
        Files.readAllBytes(tmp.resolve("merged-kohya").resolve(unet)), "diffusers and kohya layouts merge alike");
    assertFalse(Arrays.equals(Files.readAllBytes(tmp.resolve("merged").resolve(unet)),
        Files.readAllBytes(tmp.resolve("model").resolve(unet))));
  }

  /**
   * From a latent cache, with caption dropout, Min-SNR and validation of the EMA adapters: the LoRA run goes through
   * the same paths as the full fine-tune (a grid per validation, the adapters published).
   */
  @Test
  void fromTheCacheWithDropoutMinSnrAndValidation(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    TrainCommandTest.setup(tmp);
    CliRun r = CliRun.of("cache", "--model", tmp.resolve("model").toString(), "--data", tmp.resolve("train.jsonl").toString(),
        "--images", tmp.resolve("images").toString(), "--out", tmp.resolve("cache").toString(), "--resolution", "16");
    assertEquals(0, r.code(), r.out() + r.err());
    r = CliRun.of("train", "--model", tmp.resolve("model").toString(), "--cache", tmp.resolve("cache").toString(), "--out",
        tmp.resolve("c").toString(), "--resolution", "16", "--batch-size", "2", "--max-steps", "3", "--lr", "1e-2",
        "--lora-rank", "2", "--lora-targets", "to_k,to_v,proj_in", "--caption-dropout", "0.5", "--snr-gamma", "5",
        "--ema", "--validation-prompts", "a cat to the left of a dog", "--validation-every", "2", "--validation-steps", "2");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("validation (EMA weights): "), r.out());
    for (String f : List.of("validation/step-2.png", "validation/step-3.png", LoraWriter.FILE_NAME))
      assertTrue(Files.isRegularFile(tmp.resolve("c").resolve(f)), f);
    try (SafetensorsFile f = SafetensorsFile.open(tmp.resolve("c").resolve(LoraWriter.FILE_NAME))) {
      assertTrue(f.keys().stream().anyMatch(k -> k.endsWith(".proj_in.lora_A.weight")), f.keys().toString());
      assertTrue(f.keys().stream().noneMatch(k -> k.contains(".to_q.")), f.keys().toString());
    }
  }

  @Test
  void loraMistakesAreOneLine(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    TrainCommandTest.setup(tmp);
    for (String[] bad : List.of(new String[] {"--lora-rank", "-1"}, new String[] {"--lora-alpha", "4"},
        new String[] {"--lora-rank", "4", "--lora-targets", "to_q,to_x"}, new String[] {"--lora-rank", "4", "--lora-alpha", "0"})) {
      CliRun r = CliRun.of(TrainCommandTest.args(tmp, "bad", bad).toArray(String[]::new));
      assertEquals(2, r.code(), Arrays.toString(bad) + ": " + r.out() + r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertTrue(r.err().contains("--lora-"), r.err());
      assertFalse(Files.exists(tmp.resolve("bad")), "nothing written");
    }
  }

  private static String[] sample(String model, Path out, String... extra) {
    List<String> a = new ArrayList<>(List.of("sample", "--model", model, "--out", out.toString()));
    a.addAll(Arrays.asList(SAMPLE));
    a.addAll(Arrays.asList(extra));
    return a.toArray(String[]::new);
  }

  private static byte[] image(Path out) throws Exception {
    return Files.readAllBytes(out.resolve("0_0.png"));
  }
}

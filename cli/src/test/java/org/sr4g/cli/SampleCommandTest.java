package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.torch.NativeAssume;

/** {@code sr4g sample} end to end on a tiny random model on the CPU (a smoke test: the images are noise). */
class SampleCommandTest {

  private static void requireTorch() {
    NativeAssume.torch();
  }

  @Test
  void writesOnePngPerImageAndResumes(@TempDir Path tmp) throws Exception {
    requireTorch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 7);
    Path prompts = tmp.resolve("prompts.jsonl");
    Files.writeString(prompts, """
        {"unique_id": 3, "num_objects": 2, "obj_1_attributes": ["cat"], "obj_2_attributes": ["dog"], "rel_type": "to the left of", "text": "a cat to the left of a dog"}
        {"unique_id": 11, "num_objects": 1, "obj_1_attributes": ["bus"], "text": "a bus"}
        """);
    Path out = tmp.resolve("images");
    String[] args = {"sample", "--model", model.toString(), "--prompts", prompts.toString(), "--out", out.toString(),
        "--images-per-prompt", "2", "--steps", "2", "--width", "16", "--height", "8", "--seed", "5"};
    CliRun r = CliRun.of(args);
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals(List.of(".sr4g-output", "11_0.png", "11_1.png", "3_0.png", "3_1.png"), names(out));
    BufferedImage img = ImageIO.read(out.resolve("3_0.png").toFile());
    assertEquals(16, img.getWidth());
    assertEquals(8, img.getHeight());
    byte[] first = Files.readAllBytes(out.resolve("3_1.png"));
    assertNotEquals(List.of(Files.readAllBytes(out.resolve("3_0.png"))), List.of(first));

    // Interrupted run: one image missing. The resume makes only that one, identical to the first run's.
    Files.delete(out.resolve("3_1.png"));
    r = CliRun.of(args);
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("wrote 1 images") && r.out().contains("(3 already there)"), r.out());
    assertArrayEquals(first, Files.readAllBytes(out.resolve("3_1.png")));
    r = CliRun.of(args);
    assertTrue(r.out().contains("nothing to do: all 4 images"), r.out());
    assertEquals(List.of(".sr4g-output", "11_0.png", "11_1.png", "3_0.png", "3_1.png"), names(out), "no temporary files left");
  }

  /**
   * {@code --batch-size 4} (UNet batches of 4 images, the last one of 2) writes the same PNG bytes as one image at a
   * time, and without --width/--height the images have the model's own size (sample_size 8 × VAE factor 2 = 16).
   */
  @Test
  void batchSizeGivesByteIdenticalImagesAtTheModelsOwnSize(@TempDir Path tmp) throws Exception {
    requireTorch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 7);
    Path prompts = tmp.resolve("prompts.jsonl");
    Files.writeString(prompts, """
        {"unique_id": 3, "num_objects": 1, "obj_1_attributes": ["cat"], "text": "a cat"}
        {"unique_id": 4, "num_objects": 1, "obj_1_attributes": ["bus"], "text": "a bus"}
        {"unique_id": 5, "num_objects": 1, "obj_1_attributes": ["cup"], "text": "a red cup"}
        """);
    List<String> expected = List.of("3_0.png", "3_1.png", "4_0.png", "4_1.png", "5_0.png", "5_1.png");
    for (String b : new String[] {"1", "4"}) {
      CliRun r = CliRun.of("sample", "--model", model.toString(), "--prompts", prompts.toString(), "--out",
          tmp.resolve("b" + b).toString(), "--images-per-prompt", "2", "--steps", "2", "--seed", "9", "--batch-size", b);
      assertEquals(0, r.code(), r.out() + r.err());
      assertEquals(Stream.concat(Stream.of(".sr4g-output"), expected.stream()).toList(), names(tmp.resolve("b" + b)));
    }
    for (String f : expected)
      assertArrayEquals(Files.readAllBytes(tmp.resolve("b1").resolve(f)), Files.readAllBytes(tmp.resolve("b4").resolve(f)), f);
    BufferedImage img = ImageIO.read(tmp.resolve("b4/3_0.png").toFile());
    assertEquals(16, img.getWidth());
    assertEquals(16, img.getHeight());
    CliRun bad = CliRun.of("sample", "--model", model.toString(), "--prompt", "x", "--out", tmp.resolve("x").toString(),
        "--batch-size", "0");
    assertEquals(2, bad.code(), bad.out() + bad.err());
  }

  @Test
  void badFolderIsOneUserErrorNamingTheProblem(@TempDir Path tmp) throws Exception {
    requireTorch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 7);
    Files.delete(model.resolve("vae/diffusion_pytorch_model.safetensors"));
    CliRun r = CliRun.of("sample", "--model", model.toString(), "--prompt", "a cat", "--out",
        tmp.resolve("o").toString(), "--steps", "1", "--width", "8", "--height", "8");
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("sr4g sample: error:") && r.err().contains("vae/diffusion_pytorch_model.safetensors: missing"),
        r.err());
  }

  @Test
  void dtypeOnTheCpu(@TempDir Path tmp) throws Exception {
    requireTorch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 7);
    String[] base = {"sample", "--model", model.toString(), "--prompt", "a cat", "--images-per-prompt", "1",
        "--steps", "1", "--width", "16", "--height", "16", "--device", "cpu", "--dtype"};
    CliRun r = CliRun.of(concat(base, "f16", "--out", tmp.resolve("f16").toString()));
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("sr4g sample: error: --dtype f16 is not supported on the CPU"), r.err());
    r = CliRun.of(concat(base, "half-ish", "--out", tmp.resolve("x").toString()));
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("unknown dtype 'half-ish'"), r.err());
    r = CliRun.of(concat(base, "f32", "--out", tmp.resolve("f32").toString()));
    assertEquals(0, r.code(), r.out() + r.err());
    r = CliRun.of(concat(base, "bf16", "--out", tmp.resolve("bf16").toString()));
    if (org.sr4g.diffusion.Precision.cpuBf16Problem().isEmpty()) {
      assertEquals(0, r.code(), r.out() + r.err());
      assertEquals(List.of(".sr4g-output", "0_0.png"), names(tmp.resolve("bf16")));
    } else {
      assertEquals(2, r.code(), r.out() + r.err());
      assertTrue(r.err().contains("--dtype bf16 is not supported on the CPU by this libtorch"), r.err());
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static List<String> names(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}

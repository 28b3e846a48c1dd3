package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.diffusion.Txt2Img;
import org.sr4g.torch.Device;
import org.sr4g.torch.Torch;

/** The whole text-to-image path on a tiny random model (a smoke test: the pictures are meaningless). */
class Txt2ImgTest {

  @Test
  void randomFolderMatchesWhatTheModelsExpect(@TempDir Path tmp) {
    Path dir = RandomModelFolder.write(tmp, 1);
    assertEquals(List.of(), ModelFolder.open(dir, null).problems());
  }

  @Test
  void generatesDeterministicImagesWithGuidance(@TempDir Path tmp) {
    ModelGolden.requireTorch();
    long live = Torch.liveTensors();
    try (DiffusersModel m = DiffusersModel.load(RandomModelFolder.write(tmp, 1), null, Device.CPU)) {
      Txt2Img pipe = new Txt2Img(m, Device.CPU);
      assertEquals(4, pipe.sizeMultiple());
      Txt2Img.Request r = new Txt2Img.Request("a cat to the left of a dog", "", 16, 12, 3, 7.5, 42, 1);
      BufferedImage a = pipe.generate(r);
      assertEquals(16, a.getWidth());
      assertEquals(12, a.getHeight());
      assertTrue(pixels(a).size() > 1, "not a flat image");
      assertTrue(same(a, pipe.generate(r)), "same seed, same image");
      assertFalse(same(a, pipe.generate(new Txt2Img.Request(r.prompt(), "", 16, 12, 3, 7.5, 43, 1))));
      assertFalse(same(a, pipe.generate(new Txt2Img.Request("a dog", "", 16, 12, 3, 7.5, 42, 2))));
      assertThrows(UserInputException.class,
          () -> pipe.generate(new Txt2Img.Request("x", "", 18, 12, 3, 7.5, 42, 1)));
    }
    assertEquals(live, Torch.liveTensors(), "every handle freed");
  }

  /**
   * A batch of prompts gives each image exactly as generating it alone (per-image seeds, text encoded as alone,
   * decoded alone; the UNet's batch of 2B must not change a value), for every scheduler — DDPM draws per-image noise at
   * every step — and on a model packed for inference. Packing changes the 1×1 convolutions by ~1e-7 relative: the
   * packed images are within one 8-bit level of the plain ones.
   */
  @Test
  void batchedImagesAreByteIdenticalToOneAtATime(@TempDir Path tmp) throws java.io.IOException {
    ModelGolden.requireTorch();
    long live = Torch.liveTensors();
    Path dir = RandomModelFolder.write(tmp, 3);
    Path config = dir.resolve("scheduler/scheduler_config.json");
    String ddim = java.nio.file.Files.readString(config);
    List<Txt2Img.Request> batch = List.of(new Txt2Img.Request("a cat to the left of a dog", "", 16, 16, 3, 7.5, 42, 1),
        new Txt2Img.Request("a red cup", "", 16, 16, 3, 7.5, 7, 1),
        new Txt2Img.Request("a cat to the left of a dog", "", 16, 16, 3, 7.5, 43, 1));
    for (String cls : List.of("DDIMScheduler", "DDPMScheduler", "PNDMScheduler", "EulerDiscreteScheduler")) {
      java.nio.file.Files.writeString(config, ddim.replace("DDIMScheduler", cls).replace("{", "{\"skip_prk_steps\":true,"));
      List<BufferedImage> plain = new java.util.ArrayList<>();
      try (DiffusersModel m = DiffusersModel.load(dir, null, Device.CPU)) {
        Txt2Img pipe = new Txt2Img(m, Device.CPU);
        for (Txt2Img.Request r : batch) plain.add(pipe.generate(r));
        List<BufferedImage> together = pipe.generate(batch);
        for (int i = 0; i < batch.size(); i++) assertTrue(same(plain.get(i), together.get(i)), cls + " image " + i);
        assertFalse(same(plain.get(0), plain.get(2)), cls + ": another seed gives another image");
      }
      try (DiffusersModel m = DiffusersModel.load(dir, null, Device.CPU)) {
        assertTrue(m.packForInference().contains("UNet: packed 33 conv weights"), m.unet().packForInference().toString());
        assertTrue(m.unet().packForInference().isComplete() && m.vae().packForInference().isComplete());
        Txt2Img pipe = new Txt2Img(m, Device.CPU);
        List<BufferedImage> packed = pipe.generate(batch);
        for (int i = 0; i < batch.size(); i++) {
          assertTrue(same(pipe.generate(batch.get(i)), packed.get(i)), cls + " packed image " + i);
          assertTrue(maxLevelDiff(plain.get(i), packed.get(i)) <= 1, cls + " packed vs plain " + i);
        }
      }
    }
    assertEquals(live, Torch.liveTensors(), "every handle freed");
  }

  private static int maxLevelDiff(BufferedImage a, BufferedImage b) {
    int d = 0;
    for (int y = 0; y < a.getHeight(); y++)
      for (int x = 0; x < a.getWidth(); x++)
        for (int s = 0; s < 24; s += 8)
          d = Math.max(d, Math.abs(((a.getRGB(x, y) >> s) & 255) - ((b.getRGB(x, y) >> s) & 255)));
    return d;
  }

  private static Set<Integer> pixels(BufferedImage img) {
    Set<Integer> s = new HashSet<>();
    for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) s.add(img.getRGB(x, y));
    return s;
  }

  private static boolean same(BufferedImage a, BufferedImage b) {
    for (int y = 0; y < a.getHeight(); y++)
      for (int x = 0; x < a.getWidth(); x++) if (a.getRGB(x, y) != b.getRGB(x, y)) return false;
    return true;
  }
}

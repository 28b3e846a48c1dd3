package org.sr4g.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.torch.Device;
import org.sr4g.torch.Torch;

/** The training loop on a tiny random model, CPU, 16 px: determinism, resume, options, checkpoints, final model. */
class TrainerTest {

  private static void requireTorch() {
    if (Torch.isAvailable()) return;
    String why = "libtorch engine unavailable: " + Torch.unavailableReason().orElse("?");
    if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(why + " — required when CI=true");
    Assumptions.abort(why);
  }

  static final Trainer.Listener QUIET = (m, max) -> {};

  static TrainOptions options(Path tmp, String out) throws Exception {
    Path model = tmp.resolve("model");
    if (!Files.exists(model)) RandomModelFolder.write(model, 11);
    Path images = tmp.resolve("images");
    if (!Files.exists(images)) TrainingDataTest.writeImages(images, 4);
    Path data = tmp.resolve("train.jsonl");
    if (!Files.exists(data)) {
      StringBuilder sb = new StringBuilder();
      for (List<TrainRow> ex : TrainingDataTest.rows(4))
        sb.append("{\"file_name\":\"").append(ex.get(0).fileName()).append("\",\"caption\":\"")
            .append(ex.get(0).caption()).append("\",\"relation\":\"left of\"}\n");
      Files.writeString(data, sb);
    }
    TrainOptions o = new TrainOptions();
    o.model = model;
    o.data = data;
    o.images = images;
    o.out = tmp.resolve(out);
    o.resolution = 16;
    o.batchSize = 2;
    o.maxSteps = 4;
    o.lr = 1e-3;
    o.seed = 5;
    o.checkpointEvery = 2;
    o.lrScheduler = "constant_with_warmup";
    o.lrWarmupSteps = 1;
    o.randomFlip = true;
    o.randomCrop = true;
    return o;
  }

  static List<Double> losses(Trainer.Result r) {
    return r.metrics().stream().map(Trainer.StepMetrics::loss).toList();
  }

  static byte[] unet(Path modelDir) throws Exception {
    return Files.readAllBytes(modelDir.resolve("unet/diffusion_pytorch_model.safetensors"));
  }

  @Test
  void sameLossSequenceEveryRunAndAFullModelAtTheEnd(@TempDir Path tmp) throws Exception {
    requireTorch();
    TrainOptions oa = options(tmp, "a");
    long live = Torch.liveTensors();
    Trainer.Result a = Trainer.train(oa, QUIET);
    assertEquals(live, Torch.liveTensors(), "every native handle of the run freed (one owner each)");
    Trainer.Result b = Trainer.train(options(tmp, "b"), QUIET);
    assertEquals(4, a.metrics().size());
    assertEquals(losses(a), losses(b));
    UserInputException again = assertThrows(UserInputException.class, () -> Trainer.train(options(tmp, "a"), QUIET));
    assertTrue(again.getMessage().contains("already holds checkpoints"), again.getMessage());
    assertArrayEquals(unet(a.finalModel()), unet(b.finalModel()));
    assertFalse(java.util.Arrays.equals(unet(a.finalModel()), unet(tmp.resolve("model"))), "the UNet changed");
    for (Trainer.StepMetrics m : a.metrics()) assertTrue(Double.isFinite(m.loss()) && Double.isFinite(m.gradNorm()));
    assertEquals(0.0, a.metrics().get(0).lr(), "warmup: diffusers' first update has factor 0");
    assertEquals(1e-3, a.metrics().get(1).lr());
    assertEquals(4, Files.readAllLines(tmp.resolve("a/metrics.jsonl")).size());
    assertEquals(List.of("checkpoint-2", "checkpoint-4"), names(tmp.resolve("a/checkpoints")));
    // The output is a complete diffusers folder that loads.
    try (DiffusersModel m = DiffusersModel.load(a.finalModel(), null, Device.CPU)) {
      assertTrue(m.unet().params().list().size() > 10);
    }
    assertArrayEquals(Files.readAllBytes(tmp.resolve("model/vae/diffusion_pytorch_model.safetensors")),
        Files.readAllBytes(a.finalModel().resolve("vae/diffusion_pytorch_model.safetensors")));
  }

  static List<String> names(Path dir) throws Exception {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /**
   * In-process resume: 2 steps, then a new Trainer resumed from checkpoint-2 for 2 more, against 4 straight. (The
   * crash variant, a separate JVM halted mid-run, is {@code TrainCommandTest} in the cli module.)
   */
  @Test
  void resumeIsExact(@TempDir Path tmp) throws Exception {
    requireTorch();
    TrainOptions o = options(tmp, "straight");
    o.gradAccum = 2;
    o.ema = true;
    o.emaDecay = 0.9;
    Trainer.Result straight = Trainer.train(o, QUIET);
    TrainOptions first = options(tmp, "resumed");
    first.gradAccum = 2;
    first.maxSteps = 2;
    first.ema = true;
    first.emaDecay = 0.9;
    Trainer.Result r1 = Trainer.train(first, QUIET);
    TrainOptions second = options(tmp, "resumed");
    second.gradAccum = 2;
    second.ema = true;
    second.emaDecay = 0.9;
    second.resume = "latest";
    List<String> messages = new ArrayList<>();
    Trainer.Result r2 = Trainer.train(second, new Trainer.Listener() {
      public void step(Trainer.StepMetrics m, long max) {}

      public void message(String line) {
        messages.add(line);
      }
    });
    assertEquals(2, r2.startStep());
    assertTrue(messages.get(0).contains("resumed from"), messages.toString());
    List<Double> joined = new ArrayList<>(losses(r1));
    joined.addAll(losses(r2));
    assertEquals(losses(straight), joined);
    assertArrayEquals(unet(straight.finalModel()), unet(r2.finalModel()), "the published (EMA) UNet");
    Path raw = tmp.resolve("straight/checkpoints/checkpoint-4"), rawResumed = tmp.resolve("resumed/checkpoints/checkpoint-4");
    assertArrayEquals(unet(raw), unet(rawResumed), "the raw UNet");
    assertArrayEquals(Files.readAllBytes(raw.resolve("unet_ema/diffusion_pytorch_model.safetensors")),
        unet(straight.finalModel()), "final model = EMA weights");
    assertFalse(java.util.Arrays.equals(unet(raw), unet(straight.finalModel())), "EMA differs from the raw weights");
    assertEquals(4, Files.readAllLines(tmp.resolve("resumed/metrics.jsonl")).size());

    // Changing an option the data stream depends on is refused.
    TrainOptions changed = options(tmp, "resumed");
    changed.resume = "latest";
    changed.seed = 6;
    assertThrows(UserInputException.class, () -> Trainer.train(changed, QUIET));
  }

  @Test
  void gradientCheckpointingGivesTheSameLossesWithAccumulationAndClipping(@TempDir Path tmp) throws Exception {
    requireTorch();
    TrainOptions plain = options(tmp, "plain");
    plain.gradAccum = 2;
    plain.maxGradNorm = 0.05; // small enough that clipping acts (grad norms here are ~0.1-1)
    Trainer.Result a = Trainer.train(plain, QUIET);
    TrainOptions ck = options(tmp, "checkpointed");
    ck.gradAccum = 2;
    ck.maxGradNorm = 0.05;
    ck.gradientCheckpointing = true;
    List<String> messages = new ArrayList<>();
    long live = Torch.liveTensors();
    Trainer.Result b = Trainer.train(ck, new Trainer.Listener() {
      public void step(Trainer.StepMetrics m, long max) {}

      public void message(String line) {
        messages.add(line);
      }
    });
    assertEquals(live, Torch.liveTensors(), "every native handle of the checkpointed run freed");
    assertTrue(messages.stream().anyMatch(l -> l.contains("gradient checkpointing: on")), messages.toString());
    assertEquals(4, b.metrics().size());
    for (int i = 0; i < 4; i++) {
      Trainer.StepMetrics x = a.metrics().get(i), y = b.metrics().get(i);
      assertTrue(x.gradNorm() > 0.05, "clipping must act for the test to cover it: " + x.gradNorm());
      assertEquals(x.loss(), y.loss(), 1e-5 * Math.abs(x.loss()), "loss of step " + (i + 1));
      assertEquals(x.gradNorm(), y.gradNorm(), 1e-5 * x.gradNorm(), "grad norm of step " + (i + 1));
    }
    System.out.println("gradient checkpointing, losses: " + losses(a) + " vs " + losses(b));
    String state = Files.readString(tmp.resolve("checkpointed/checkpoints/checkpoint-4/state.json"));
    assertTrue(state.replaceAll("\\s", "").contains("\"gradient_checkpointing\":true"), state);
    // The setting is not one a resume must keep: continuing the plain run with checkpointing is allowed.
    TrainOptions more = options(tmp, "plain");
    more.gradAccum = 2;
    more.maxGradNorm = 0.05;
    more.maxSteps = 5;
    more.resume = "latest";
    more.gradientCheckpointing = true;
    assertEquals(5, Trainer.train(more, QUIET).endStep());
  }

  @Test
  void vPredictionMinSnrNoiseOffsetAndCosine(@TempDir Path tmp) throws Exception {
    requireTorch();
    TrainOptions base = options(tmp, "base");
    base.maxSteps = 2;
    base.checkpointEvery = 0;
    Trainer.Result a = Trainer.train(base, QUIET);
    TrainOptions o = options(tmp, "v");
    o.maxSteps = 2;
    o.checkpointEvery = 0;
    o.checkpointsLimit = 1;
    o.predictionType = "v_prediction";
    o.snrGamma = 5;
    o.noiseOffset = 0.1;
    o.lrScheduler = "cosine";
    o.maxGradNorm = 0;
    Trainer.Result b = Trainer.train(o, QUIET);
    for (Trainer.StepMetrics m : b.metrics()) assertTrue(Double.isFinite(m.loss()) && m.loss() > 0);
    assertNotEquals(losses(a), losses(b));
    assertEquals(List.of("checkpoint-2"), names(tmp.resolve("v/checkpoints")), "final checkpoint always written");
    o.predictionType = "sample";
    assertThrows(UserInputException.class, () -> Trainer.train(o, QUIET));
  }

  @Test
  void checkpointsLimitAndSkips(@TempDir Path tmp) throws Exception {
    requireTorch();
    TrainOptions o = options(tmp, "lim");
    Files.writeString(o.data, Files.readString(o.data)
        + "{\"file_name\":\"gone.jpg\",\"caption\":\"a cat above a dog\",\"relation\":\"above\"}\n");
    o.checkpointEvery = 1;
    o.checkpointsLimit = 2;
    Trainer.Result r = Trainer.train(o, QUIET);
    assertEquals(List.of("checkpoint-3", "checkpoint-4"), names(tmp.resolve("lim/checkpoints")));
    assertTrue(r.skips() >= 1, "4 steps × 2 examples cover both epochs of 5 rows");
    assertEquals(List.of("gone.jpg"), r.skippedFiles());
  }
}

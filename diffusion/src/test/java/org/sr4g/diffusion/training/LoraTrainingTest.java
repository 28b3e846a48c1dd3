package org.sr4g.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.lora.LoraFile;
import org.sr4g.diffusion.lora.LoraSource;
import org.sr4g.diffusion.lora.LoraWriter;
import org.sr4g.diffusion.FolderSource;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.safetensors.SafetensorsDiff;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Torch;

/**
 * LoRA training ({@code --lora-rank}) on the tiny random model: only the adapters train (the base files are untouched,
 * OUT holds {@code pytorch_lora_weights.safetensors} and no {@code model/}), the loss falls, and a resume with
 * gradient accumulation, checkpointing, EMA and the text encoder's adapters is exact.
 */
class LoraTrainingTest {
  static TrainOptions lora(TrainOptions o, int rank) {
    o.loraRank = rank;
    o.lr = 1e-2;
    return o;
  }

  static byte[] bytes(Path p) throws Exception {
    return Files.readAllBytes(p);
  }

  @Test
  void adaptersTrainTheLossFallsAndTheBaseIsUntouched(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    TrainOptions o = twentySteps(tmp, "falls", 3e-2);
    o.checkpointEvery = 10;
    byte[] baseUnet = TrainerTest.unet(tmp.resolve("model"));
    long live = Torch.liveTensors();
    Trainer.Result r = Trainer.train(o, TrainerTest.QUIET);
    assertEquals(live, Torch.liveTensors(), "every native handle of the run freed");
    // The same run with a learning rate too small to move anything: the same data, noise and timesteps, so its losses
    // are what the untrained model gives on exactly those examples.
    List<Double> l = TrainerTest.losses(r);
    List<Double> base = TrainerTest.losses(Trainer.train(twentySteps(tmp, "frozen", 1e-12), TrainerTest.QUIET));
    assertEquals(base.get(0), l.get(0), "step 1: B = 0, the adapters start at the base model's output");
    double trained = l.subList(15, 20).stream().mapToDouble(x -> x).average().orElseThrow();
    double untrained = base.subList(15, 20).stream().mapToDouble(x -> x).average().orElseThrow();
    System.out.printf("LoRA rank 4, 20 steps: mean loss of steps 16-20 %.4f, untrained on the same examples %.4f%n",
        trained, untrained);
    assertTrue(trained < 0.85 * untrained, "steps 16–20: " + trained + " vs untrained " + untrained + ": " + l + " / " + base);
    Path file = tmp.resolve("falls").resolve(LoraWriter.FILE_NAME);
    assertEquals(file, r.finalModel());
    assertFalse(Files.exists(tmp.resolve("falls/model")), "a LoRA run publishes the adapters, not a model");
    assertArrayEquals(baseUnet, TrainerTest.unet(tmp.resolve("model")), "the base model's files are untouched");
    ModelFolder folder = ModelFolder.open(tmp.resolve("model"), null);
    try (LoraSource s = LoraSource.open(FolderSource.open(folder), List.of(new LoraSource.Spec(file, 1)))) {
      assertEquals(LoraFile.Layout.DIFFUSERS, s.files().get(0).layout());
      assertTrue(s.files().get(0).entries().stream().allMatch(e -> e.module().matches(".*\\.(to_[qkv]|to_out\\.0)")));
    }
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      assertTrue(f.keys().stream().allMatch(k -> k.startsWith("unet.") && k.matches(".*\\.lora\\.(down|up)\\.weight")),
          f.keys().toString());
    }
    // The checkpoint holds the adapters as a diffusers LoRA file and AdamW's state of the adapters only.
    Path ckpt = tmp.resolve("falls/checkpoints/checkpoint-20");
    assertTrue(Files.isRegularFile(ckpt.resolve(LoraWriter.FILE_NAME)));
    assertFalse(Files.exists(ckpt.resolve("unet")));
    try (SafetensorsFile opt = SafetensorsFile.open(ckpt.resolve("optimizer.safetensors"));
        SafetensorsFile w = SafetensorsFile.open(file)) {
      assertEquals(2 * w.keys().size(), opt.keys().size());
    }
  }

  /** Rank 4, 20 steps of batch 4 at a constant {@code lr}, no flips or crops, seed 1, a checkpoint at the end. */
  static TrainOptions twentySteps(Path tmp, String out, double lr) throws Exception {
    TrainOptions o = lora(TrainerTest.options(tmp, out), 4);
    o.maxSteps = 20;
    o.batchSize = 4;
    o.lr = lr;
    o.lrScheduler = LrSchedule.Kind.CONSTANT;
    o.lrWarmupSteps = 0;
    o.randomFlip = false;
    o.randomCrop = false;
    o.checkpointEvery = 0;
    o.seed = 1;
    return o;
  }

  @Test
  void resumeIsExactWithAccumulationCheckpointingEmaAndTheTextEncoder(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Trainer.Result straight = Trainer.train(options(tmp, "straight", 4), TrainerTest.QUIET);
    TrainOptions first = options(tmp, "resumed", 2);
    Trainer.train(first, TrainerTest.QUIET);
    TrainOptions second = options(tmp, "resumed", 4);
    second.resume = "latest";
    Trainer.Result resumed = Trainer.train(second, TrainerTest.QUIET);
    assertEquals(TrainerTest.losses(straight).subList(2, 4), TrainerTest.losses(resumed));
    for (String f : List.of(LoraWriter.FILE_NAME, "pytorch_lora_weights_ema.safetensors", "optimizer.safetensors",
        "text_encoder_optimizer.safetensors"))
      assertArrayEquals(bytes(tmp.resolve("straight/checkpoints/checkpoint-4/" + f)),
          bytes(tmp.resolve("resumed/checkpoints/checkpoint-4/" + f)), f);
    assertArrayEquals(bytes(straight.finalModel()), bytes(resumed.finalModel()));
    try (SafetensorsFile f = SafetensorsFile.open(straight.finalModel())) {
      assertTrue(f.keys().stream().anyMatch(k -> k.startsWith("text_encoder.") && k.contains(".lora_linear_layer.")));
    }
    // Another rank, or a full fine-tune, cannot continue a LoRA checkpoint.
    TrainOptions other = options(tmp, "resumed", 6);
    other.resume = "latest";
    other.loraRank = 3;
    UserInputException e = assertThrows(UserInputException.class, () -> Trainer.train(other, TrainerTest.QUIET));
    assertTrue(e.getMessage().contains("options differ") || e.getMessage().contains("--lora-rank"), e.getMessage());
    TrainOptions full = options(tmp, "resumed", 6);
    full.resume = "latest";
    full.loraRank = 0;
    e = assertThrows(UserInputException.class, () -> Trainer.train(full, TrainerTest.QUIET));
    assertTrue(e.getMessage().contains("--lora-rank"), e.getMessage());
  }

  /**
   * {@code --mixed-precision bf16} (CPU autocast): the frozen base UNet and text encoder are held in bf16, the adapters
   * (the master weights) in float32; losses finite and close to the float32 run's but not equal (autocast is on);
   * 2 + 2 steps resumed equal 4 straight steps bit for bit.
   */
  @Test
  void bf16HoldsTheBaseInBf16AndResumesExactly(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    List<String> dtypes = new java.util.ArrayList<>();
    TestHooks hooks = new TestHooks().loaded(m -> dtypes.add(m.unet().dtype() + "/"
        + m.textEncoder().params().list().get(0).dtype()));
    TrainOptions f32 = bf16(tmp, "f32", 4);
    f32.mixedPrecision = MixedPrecision.NO;
    List<Double> l32 = TrainerTest.losses(Trainer.train(f32, TrainerTest.QUIET));
    long live = Torch.liveTensors();
    Trainer.Result straight = Trainer.train(bf16(tmp, "straight", 4), TrainerTest.QUIET, hooks);
    assertEquals(live, Torch.liveTensors(), "every native handle of the run freed");
    assertEquals(List.of("BF16/BF16"), dtypes, "the frozen base UNet and text encoder in bf16");
    List<Double> l16 = TrainerTest.losses(straight);
    for (int i = 0; i < 4; i++) {
      assertTrue(Double.isFinite(l16.get(i)) && Math.abs(l16.get(i) - l32.get(i)) < 0.05 * l32.get(i), l16 + " vs " + l32);
      assertTrue(!l16.get(i).equals(l32.get(i)), "autocast changes the numbers: " + l16 + " vs " + l32);
    }
    try (SafetensorsFile f = SafetensorsFile.open(straight.finalModel())) {
      assertTrue(f.keys().stream().allMatch(k -> f.info(k).dtype().equals("F32")), "float32 adapters");
    }
    Trainer.train(bf16(tmp, "resumed", 2), TrainerTest.QUIET);
    TrainOptions rest = bf16(tmp, "resumed", 4);
    rest.resume = "latest";
    assertEquals(l16.subList(2, 4), TrainerTest.losses(Trainer.train(rest, TrainerTest.QUIET)));
    assertArrayEquals(bytes(straight.finalModel()), bytes(tmp.resolve("resumed").resolve(LoraWriter.FILE_NAME)));
  }

  static TrainOptions bf16(Path tmp, String out, long steps) throws Exception {
    TrainOptions o = lora(TrainerTest.options(tmp, out), 4);
    o.mixedPrecision = MixedPrecision.BF16;
    o.maxSteps = steps;
    o.checkpointEvery = 2;
    o.trainTextEncoder = true;
    return o;
  }

  /**
   * Two ranks on threads (Gloo, a FileStore) train the adapters as one process with the global batch: DDP's Reducer is
   * put on the trained parameters, which are the adapters only — a frozen base weight in it would get no gradient,
   * which the Reducer reports as an error after the backward — the losses agree within 1e-6 relative and the adapters
   * far closer than without the all-reduce.
   */
  @Test
  void twoRanksTrainTheAdaptersAsOneProcess(@TempDir Path tmp) throws Exception {
    NativeAssume.gloo();
    Trainer.Result one = Trainer.train(ddp(tmp, "one", 4), TrainerTest.QUIET);
    List<Double> l1 = TrainerTest.losses(one);
    for (Trainer.Result r : twoRanks(tmp, "two", true))
      for (int i = 0; i < l1.size(); i++)
        assertEquals(l1.get(i), TrainerTest.losses(r).get(i), 1e-6 * l1.get(i), "step " + (i + 1));
    double d = SafetensorsDiff.maxRelative(one.finalModel(), tmp.resolve("two").resolve(LoraWriter.FILE_NAME));
    twoRanks(tmp, "apart", false);
    double apart = SafetensorsDiff.maxRelative(one.finalModel(), tmp.resolve("apart").resolve(LoraWriter.FILE_NAME));
    System.out.printf("LoRA, 2 ranks on threads vs 1 process: adapters differ by %.2e (without the all-reduce %.2e)%n",
        d, apart);
    // AdamW turns a rounding-sized gradient difference into an update of up to lr (docs/training.md), and B starts at
    // 0, so its largest value is only a few lr: the bound is loose next to what the all-reduce prevents.
    assertTrue(d <= 1e-4, "adapters differ by " + d);
    assertTrue(apart > 100 * Math.max(d, 1e-6), "without the all-reduce the adapters part: " + apart + " vs " + d);
  }

  private static List<Trainer.Result> twoRanks(Path tmp, String out, boolean sync) throws Exception {
    return DistributedTrainerTest.onTwoRanks(tmp, out, sync, () -> ddp(tmp, out, 2));
  }

  static TrainOptions ddp(Path tmp, String out, int batch) throws Exception {
    TrainOptions o = lora(TrainerTest.options(tmp, out), 4);
    o.batchSize = batch;
    o.lr = 1e-4;
    o.gradAccum = 2;
    o.gradientCheckpointing = true;
    o.workers = 1;
    return o;
  }

  static TrainOptions options(Path tmp, String out, long steps) throws Exception {
    TrainOptions o = lora(TrainerTest.options(tmp, out), 2);
    o.loraAlpha = 3.0;
    o.maxSteps = steps;
    o.gradAccum = 2;
    o.gradientCheckpointing = true;
    o.ema = true;
    o.emaDecay = 0.9;
    o.trainTextEncoder = true;
    o.checkpointEvery = 2;
    return o;
  }
}

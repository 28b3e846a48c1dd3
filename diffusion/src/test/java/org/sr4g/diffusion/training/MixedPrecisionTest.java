package org.sr4g.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import org.sr4g.diffusion.Precision;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Torch;

/**
 * {@code --mixed-precision} in the trainer on the CPU (bf16 autocast; fp16 is refused there) and, where libtorch sees
 * a GPU, fp16 with loss scaling on CUDA (skipped otherwise).
 */
class MixedPrecisionTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static void requireTorch() {
    NativeAssume.torch();
  }

  @Test
  void bf16OnCpuIsActiveFiniteCloseToFloat32AndDeterministic(@TempDir Path tmp) throws Exception {
    requireTorch();
    TrainOptions f = TrainerTest.options(tmp, "f32");
    f.checkpointEvery = 0;
    Trainer.Result fp32 = Trainer.train(f, TrainerTest.QUIET);
    List<Double> ref = TrainerTest.losses(fp32);
    Trainer.Result[] runs = new Trainer.Result[2];
    for (int i = 0; i < 2; i++) {
      TrainOptions o = TrainerTest.options(tmp, "bf16-" + i);
      o.checkpointEvery = 0;
      o.mixedPrecision = MixedPrecision.BF16;
      long live = Torch.liveTensors();
      runs[i] = Trainer.train(o, TrainerTest.QUIET);
      assertEquals(live, Torch.liveTensors(), "no native handle leaked under autocast");
      assertFalse(Torch.autocastEnabled(Device.CPU), "autocast is off after the run");
    }
    List<Double> bf = TrainerTest.losses(runs[0]);
    assertEquals(bf, TrainerTest.losses(runs[1]), "bf16 on the CPU is deterministic");
    assertArrayEquals(TrainerTest.unet(runs[0].finalModel()), TrainerTest.unet(runs[1].finalModel()));
    // Same data, noise and timesteps: the loss differs only by the bf16 forward, so it must differ (autocast ran)
    // and stay close (the model is the same; bf16 keeps ~3 significant digits).
    for (int i = 0; i < ref.size(); i++) {
      double a = ref.get(i), b = bf.get(i);
      assertTrue(Double.isFinite(b) && b > 0, "step " + (i + 1) + " loss " + b);
      assertNotEquals(a, b, "step " + (i + 1) + ": bf16 loss equals the float32 one, autocast was not active");
      assertEquals(a, b, 0.05 * a, "step " + (i + 1));
    }
    for (Trainer.StepMetrics m : runs[0].metrics()) {
      assertTrue(Double.isFinite(m.gradNorm()));
      assertFalse(m.skipped());
      assertEquals(0.0, m.lossScale(), "no loss scaling in bf16");
    }
    // The published weights are float32 (master weights), and the run records its precision.
    JsonNode state = JSON.readTree(tmp.resolve("bf16-0/checkpoints/checkpoint-4/state.json").toFile());
    assertEquals("bf16", state.get("options").get("mixed_precision").asText());
    assertFalse(state.has("grad_scaler"));
    JsonNode f32state = JSON.readTree(tmp.resolve("f32/checkpoints/checkpoint-4/state.json").toFile());
    assertFalse(f32state.get("options").has("mixed_precision"), "fp32 checkpoints look as before the option existed");
    assertEquals(TrainerTest.unet(fp32.finalModel()).length, TrainerTest.unet(runs[0].finalModel()).length);
  }

  @Test
  void bf16ResumeIsExactAndThePrecisionCannotChangeOnResume(@TempDir Path tmp) throws Exception {
    requireTorch();
    TrainOptions o = TrainerTest.options(tmp, "straight");
    o.mixedPrecision = MixedPrecision.BF16;
    Trainer.Result straight = Trainer.train(o, TrainerTest.QUIET);
    TrainOptions first = TrainerTest.options(tmp, "resumed");
    first.mixedPrecision = MixedPrecision.BF16;
    first.maxSteps = 2;
    Trainer.Result r1 = Trainer.train(first, TrainerTest.QUIET);
    TrainOptions second = TrainerTest.options(tmp, "resumed");
    second.mixedPrecision = MixedPrecision.BF16;
    second.resume = "latest";
    Trainer.Result r2 = Trainer.train(second, TrainerTest.QUIET);
    assertEquals(2, r2.startStep());
    List<Double> joined = new ArrayList<>(TrainerTest.losses(r1));
    joined.addAll(TrainerTest.losses(r2));
    assertEquals(TrainerTest.losses(straight), joined);
    assertArrayEquals(TrainerTest.unet(straight.finalModel()), TrainerTest.unet(r2.finalModel()));

    TrainOptions plain = TrainerTest.options(tmp, "resumed");
    plain.resume = tmp.resolve("resumed/checkpoints/checkpoint-2").toString();
    plain.maxSteps = 3;
    UserInputException e = assertThrows(UserInputException.class, () -> Trainer.train(plain, TrainerTest.QUIET));
    assertTrue(e.getMessage().contains("options differ"), e.getMessage());
  }

  @Test
  void fp16NeedsCudaAndBadValuesAreUserErrors(@TempDir Path tmp) throws Exception {
    requireTorch();
    TrainOptions o = TrainerTest.options(tmp, "fp16");
    o.mixedPrecision = MixedPrecision.FP16;
    UserInputException e = assertThrows(UserInputException.class, () -> Trainer.train(o, TrainerTest.QUIET));
    assertTrue(e.getMessage().contains("--mixed-precision fp16 needs --device cuda"), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("fp16")), "refused before anything is written");
    e = assertThrows(UserInputException.class, () -> MixedPrecision.parse("fp8"));
    assertTrue(e.getMessage().contains("no, bf16 or fp16"), e.getMessage());
    assertThrows(UserInputException.class, () -> TrainBench.run("tiny", 1, 32, 1, 0, "cpu", 0, "fp16", false));
  }

  /**
   * The GradScaler path of the trainer on the CPU (forced by a test hook, fp16 itself needs CUDA): with a power-of-two
   * scale and no overflow the run is bit-identical to float32 (scale/unscale is exact); an injected inf gradient at
   * step 2 skips that update (weights unchanged), halves the scale and is counted; the metrics rows stay valid JSON;
   * a resume from checkpoint 1 and from checkpoint 2 continues the scale and the count exactly.
   */
  @Test
  void gradScalerPathSkipsOverflowsAndResumesExactly(@TempDir Path tmp) throws Exception {
    requireTorch();
    TrainOptions f = TrainerTest.options(tmp, "f32");
    f.checkpointEvery = 0;
    Trainer.Result fp32 = Trainer.train(f, TrainerTest.QUIET);
    TrainOptions c = TrainerTest.options(tmp, "clean");
    c.checkpointEvery = 0;
    Trainer.Result clean = Trainer.train(c, TrainerTest.QUIET, new TestHooks().gradScaler());
    assertEquals(TrainerTest.losses(fp32), TrainerTest.losses(clean), "scale 65536 then unscale is exact");
    assertArrayEquals(TrainerTest.unet(fp32.finalModel()), TrainerTest.unet(clean.finalModel()));
    for (Trainer.StepMetrics m : clean.metrics()) assertEquals(65536.0, m.lossScale());

    TrainOptions o = TrainerTest.options(tmp, "inf");
    o.checkpointEvery = 1;
    Trainer.Result r = Trainer.train(o, TrainerTest.QUIET, new TestHooks().gradScaler().infGradAt(2L));
    List<Trainer.StepMetrics> ms = r.metrics();
    assertEquals(List.of(false, true, false, false), ms.stream().map(Trainer.StepMetrics::skipped).toList());
    assertEquals(List.of(0L, 1L, 1L, 1L), ms.stream().map(Trainer.StepMetrics::skippedSteps).toList());
    assertEquals(List.of(65536.0, 65536.0, 32768.0, 32768.0), ms.stream().map(Trainer.StepMetrics::lossScale).toList());
    assertTrue(Double.isNaN(ms.get(1).gradNorm()));
    assertTrue(Double.isFinite(ms.get(1).loss()), "the reported loss is the unscaled, finite one");
    assertEquals(TrainerTest.losses(fp32).subList(0, 2), TrainerTest.losses(r).subList(0, 2));
    Path ck = tmp.resolve("inf/checkpoints");
    assertArrayEquals(TrainerTest.unet(ck.resolve("checkpoint-1")), TrainerTest.unet(ck.resolve("checkpoint-2")),
        "the skipped step left the weights alone");
    List<String> rows = Files.readAllLines(tmp.resolve("inf/metrics.jsonl"));
    JsonNode row2 = JSON.readTree(rows.get(1));
    assertTrue(row2.get("grad_norm").isNull(), rows.get(1));
    assertTrue(row2.get("skipped").asBoolean());
    assertEquals(1, row2.get("skipped_steps").asInt());
    assertEquals(65536.0, row2.get("loss_scale").asDouble());
    JsonNode st = JSON.readTree(ck.resolve("checkpoint-2/state.json").toFile());
    assertEquals(32768.0, st.get("grad_scaler").get("scale").asDouble(), st.toString());
    assertEquals(0, st.get("grad_scaler").get("growth_tracker").asInt());
    assertEquals(1, st.get("skipped_steps").asInt());
    JsonNode st3 = JSON.readTree(ck.resolve("checkpoint-3/state.json").toFile());
    assertEquals(1, st3.get("grad_scaler").get("growth_tracker").asInt());
    // Resume from before the overflow (it happens again at step 2) and from after it: same as straight. (The resumed
    // runs write into the same OUT, so the straight run's final weights are read first.)
    byte[] straightUnet = TrainerTest.unet(r.finalModel());
    for (String from : List.of("checkpoint-1", "checkpoint-3")) {
      TrainOptions res = TrainerTest.options(tmp, "inf");
      res.checkpointEvery = 1;
      res.resume = ck.resolve(from).toString();
      Trainer.Result rr = Trainer.train(res, TrainerTest.QUIET, new TestHooks().gradScaler().infGradAt(2L));
      int k = Integer.parseInt(from.substring(from.length() - 1));
      assertEquals(TrainerTest.losses(r).subList(k, 4), TrainerTest.losses(rr), from);
      assertEquals(ms.subList(k, 4).stream().map(Trainer.StepMetrics::lossScale).toList(),
          rr.metrics().stream().map(Trainer.StepMetrics::lossScale).toList(), from);
      assertEquals(ms.subList(k, 4).stream().map(Trainer.StepMetrics::skippedSteps).toList(),
          rr.metrics().stream().map(Trainer.StepMetrics::skippedSteps).toList(), from);
      assertArrayEquals(straightUnet, TrainerTest.unet(rr.finalModel()), from);
    }
  }

  /**
   * Loss scaling with {@code --train-text-encoder}: the scaler unscales both models' gradients, and an overflow skips
   * both optimizers, so the text encoder of the skipped step's checkpoint equals the one before it, and moves again
   * after it.
   */
  @Test
  void gradScalerSkipCoversTheTextEncoder(@TempDir Path tmp) throws Exception {
    requireTorch();
    TrainOptions o = TrainerTest.options(tmp, "te-inf");
    o.checkpointEvery = 1;
    o.trainTextEncoder = true;
    Trainer.Result r = Trainer.train(o, TrainerTest.QUIET, new TestHooks().gradScaler().infGradAt(2L));
    assertEquals(List.of(false, true, false, false), r.metrics().stream().map(Trainer.StepMetrics::skipped).toList());
    Path ck = tmp.resolve("te-inf/checkpoints");
    byte[][] te = new byte[4][];
    for (int k = 1; k <= 4; k++) te[k - 1] = Files.readAllBytes(ck.resolve("checkpoint-" + k + "/text_encoder/model.safetensors"));
    assertArrayEquals(te[0], te[1], "the skipped step left the text encoder alone");
    assertFalse(java.util.Arrays.equals(te[1], te[2]), "the text encoder trains again after the skipped step");
    byte[] opt1 = Files.readAllBytes(ck.resolve("checkpoint-1/text_encoder_optimizer.safetensors"));
    byte[] opt2 = Files.readAllBytes(ck.resolve("checkpoint-2/text_encoder_optimizer.safetensors"));
    assertArrayEquals(opt1, opt2, "and its AdamW state (moments and step count)");
  }

  /**
   * The three memory/precision options together, as a large run would use them: bf16 autocast, gradient
   * checkpointing (the recompute under the forward's autocast) and a trained text encoder (its gradient comes in
   * through the checkpointed UNet's context). The first loss is the same forward as without checkpointing; later ones
   * stay within bf16 noise of that run, and the text encoder trains.
   */
  @Test
  void bf16WithGradientCheckpointingAndTextEncoder(@TempDir Path tmp) throws Exception {
    requireTorch();
    Trainer.Result[] runs = new Trainer.Result[2];
    for (int k = 0; k < 2; k++) {
      TrainOptions o = TrainerTest.options(tmp, "all-" + k);
      o.checkpointEvery = 0;
      o.mixedPrecision = MixedPrecision.BF16;
      o.trainTextEncoder = true;
      o.gradientCheckpointing = k == 1;
      long live = Torch.liveTensors();
      runs[k] = Trainer.train(o, TrainerTest.QUIET);
      assertEquals(live, Torch.liveTensors(), "no native handle leaked");
    }
    List<Double> plain = TrainerTest.losses(runs[0]), ckpt = TrainerTest.losses(runs[1]);
    assertEquals(plain.get(0), ckpt.get(0), "step 1: the same bf16 forward");
    for (int i = 1; i < plain.size(); i++)
      assertEquals(plain.get(i), ckpt.get(i), 2e-2 * Math.abs(plain.get(i)), "step " + (i + 1) + ": " + plain + " vs " + ckpt);
    Path input = tmp.resolve("model/text_encoder/model.safetensors");
    assertTrue(Files.isRegularFile(input), input.toString());
    assertFalse(java.util.Arrays.equals(Files.readAllBytes(input),
          Files.readAllBytes(runs[1].finalModel().resolve("text_encoder/model.safetensors"))), "the text encoder trained");
  }

  /**
   * A run whose loss scale falls to 0 (every step overflowing: a diverged fp16 run) stops with a one-line user error
   * before any checkpoint records the unusable scale; a checkpoint with a bad scaler state is a user error on resume.
   * (The initial scale here is the smallest normal float, 2^-126, so 24 overflowing steps take it to 0.)
   */
  @Test
  void lossScaleUnderflowStopsTheRunAndBadScalerStateIsAUserError(@TempDir Path tmp) throws Exception {
    requireTorch();
    TrainOptions o = TrainerTest.options(tmp, "underflow");
    o.maxSteps = 40;
    o.checkpointEvery = 5;
    java.util.Set<Long> all = new java.util.HashSet<>();
    for (long k = 1; k <= 40; k++) all.add(k);
    UserInputException e = assertThrows(UserInputException.class, 
        () -> Trainer.train(o, TrainerTest.QUIET, new TestHooks().gradScaler(Float.MIN_NORMAL).infGradAt(all)));
    assertTrue(e.getMessage().contains("the loss scale fell to 0 after 24 skipped steps")
        && e.getMessage().contains("at step 24"), e.getMessage());
    List<Path> written;
    try (var files = Files.list(tmp.resolve("underflow/checkpoints"))) {
      written = files.filter(f -> f.getFileName().toString().startsWith("checkpoint-")).sorted().toList();
    }
    assertEquals(4, written.size(), written.toString()); // 5, 10, 15, 20; none at or after the underflow
    for (Path c : written)
      assertTrue(JSON.readTree(c.resolve("state.json").toFile()).get("grad_scaler").get("scale").asDouble() > 0, c.toString());

    TrainOptions ok = TrainerTest.options(tmp, "scaled");
    ok.checkpointEvery = 1;
    ok.maxSteps = 1;
    Trainer.train(ok, TrainerTest.QUIET, new TestHooks().gradScaler());
    Path state = tmp.resolve("scaled/checkpoints/checkpoint-1/state.json");
    Files.writeString(state, Files.readString(state).replaceFirst("\"scale\"\\s*:\\s*[0-9.eE+]+", "\"scale\" : 0.0"));
    TrainOptions res = TrainerTest.options(tmp, "scaled");
    res.maxSteps = 2;
    res.resume = "latest";
    e = assertThrows(UserInputException.class, () -> Trainer.train(res, TrainerTest.QUIET, new TestHooks().gradScaler()));
    assertTrue(e.getMessage().contains("bad grad_scaler state"), e.getMessage());
  }

  /**
   * A trained text encoder runs under the step's autocast (as accelerate runs it): its step-1 context, and so the
   * step-1 loss, differs from that of the same float32 encoder run without autocast (frozen, float32 kept by the test
   * hook; the VAE float32 in both), while staying close to it.
   */
  @Test
  void trainedTextEncoderRunsUnderAutocast(@TempDir Path tmp) throws Exception {
    requireTorch();
    double[] first = new double[2];
    for (int k = 0; k < 2; k++) {
      TrainOptions o = TrainerTest.options(tmp, "te-ac-" + k);
      o.checkpointEvery = 0;
      o.maxSteps = 1;
      o.mixedPrecision = MixedPrecision.BF16;
      o.trainTextEncoder = k == 0;
      first[k] = TrainerTest.losses(Trainer.train(o, TrainerTest.QUIET, new TestHooks().frozenF32())).get(0);
    }
    assertNotEquals(first[1], first[0], "the trained encoder's forward ran in bf16");
    assertEquals(first[1], first[0], 0.02 * Math.abs(first[1]));
  }

  /** fp16 + GradScaler on CUDA: runs, records the scale, resumes exactly with the scaler's state. */
  @Test
  void fp16OnCudaScalesLossesAndResumesWithTheScalerState(@TempDir Path tmp) throws Exception {
    requireTorch();
    Assumptions.assumeTrue(Torch.cudaDeviceCount() > 0, "no CUDA device visible to libtorch");
    TrainOptions o = TrainerTest.options(tmp, "straight");
    o.device = "cuda";
    o.mixedPrecision = MixedPrecision.FP16;
    Trainer.Result straight = Trainer.train(o, TrainerTest.QUIET);
    for (Trainer.StepMetrics m : straight.metrics()) {
      assertTrue(Double.isFinite(m.loss()) && m.loss() > 0, "loss " + m.loss());
      assertTrue(m.lossScale() > 0);
    }
    assertEquals(65536.0, straight.metrics().get(0).lossScale());
    List<String> rows = Files.readAllLines(tmp.resolve("straight/metrics.jsonl"));
    JsonNode row = JSON.readTree(rows.get(0));
    assertTrue(row.has("loss_scale") && row.has("skipped") && row.has("skipped_steps"), rows.get(0));
    JsonNode state = JSON.readTree(tmp.resolve("straight/checkpoints/checkpoint-4/state.json").toFile());
    assertTrue(state.get("grad_scaler").get("scale").asDouble() > 0, state.toString());

    TrainOptions first = TrainerTest.options(tmp, "resumed");
    first.device = "cuda";
    first.mixedPrecision = MixedPrecision.FP16;
    first.maxSteps = 2;
    Trainer.Result r1 = Trainer.train(first, TrainerTest.QUIET);
    TrainOptions second = TrainerTest.options(tmp, "resumed");
    second.device = "cuda";
    second.mixedPrecision = MixedPrecision.FP16;
    second.resume = "latest";
    Trainer.Result r2 = Trainer.train(second, TrainerTest.QUIET);
    List<Double> joined = new ArrayList<>(TrainerTest.losses(r1));
    joined.addAll(TrainerTest.losses(r2));
    // CUDA kernels may not be bit-deterministic run to run: compare closely, not exactly.
    List<Double> ref = TrainerTest.losses(straight);
    for (int i = 0; i < ref.size(); i++) assertEquals(ref.get(i), joined.get(i), 1e-3 * ref.get(i), "step " + (i + 1));
    assertEquals(straight.metrics().get(3).lossScale(), r2.metrics().get(1).lossScale());
    assertEquals(straight.metrics().get(3).skippedSteps(), r2.metrics().get(1).skippedSteps());
  }

  /** The dtypes of every parameter of each component, as loaded by the trainer. */
  record Dtypes(java.util.Set<DType> textEncoder, java.util.Set<DType> unet, java.util.Set<DType> vae) {
    static Dtypes of(DiffusersModel m) {
      return new Dtypes(set(m.textEncoder().params().list()), set(m.unet().params().list()), set(m.vae().params().list()));
    }

    private static java.util.Set<DType> set(List<org.sr4g.torch.Tensor> ts) {
      java.util.Set<DType> r = java.util.EnumSet.noneOf(DType.class);
      for (org.sr4g.torch.Tensor t : ts) r.add(t.dtype());
      return r;
    }
  }

  /**
   * bf16 on the CPU loads the frozen VAE and text encoder in bf16 (diffusers' vae.to(weight_dtype)) while the UNet,
   * and a trained text encoder, stay float32; the losses stay finite, within a few % of the bf16 run with float32
   * frozen components, deterministic, and a resume is exact.
   */
  @Test
  void bf16CastsTheFrozenComponents(@TempDir Path tmp) throws Exception {
    requireTorch();
    Assumptions.assumeTrue(Precision.cpuBf16Problem().isEmpty(), "this libtorch cannot run the models in bf16 on the CPU");
    Dtypes[] seen = new Dtypes[1];
    List<String> messages = new ArrayList<>();
    Trainer.Listener listener = TrainerTest.messagesInto(messages);
    java.util.function.Consumer<org.sr4g.diffusion.DiffusersModel> look = m -> seen[0] = Dtypes.of(m);
    java.util.function.Function<String, TrainOptions> bf16 = out -> {
      try {
        TrainOptions o = TrainerTest.options(tmp, out);
        o.mixedPrecision = MixedPrecision.BF16;
        return o;
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    };
    TrainOptions f32Frozen = bf16.apply("frozen-f32");
    List<Double> ref = TrainerTest.losses(Trainer.train(f32Frozen, listener, new TestHooks().frozenF32().loaded(look)));
    assertEquals(new Dtypes(java.util.Set.of(DType.F32), java.util.Set.of(DType.F32), java.util.Set.of(DType.F32)), seen[0]);
    assertTrue(messages.isEmpty(), messages.toString());

    long live = Torch.liveTensors();
    Trainer.Result a = Trainer.train(bf16.apply("a"), listener, new TestHooks().loaded(look));
    assertEquals(live, Torch.liveTensors(), "no native handle leaked");
    assertEquals(new Dtypes(java.util.Set.of(DType.BF16), java.util.Set.of(DType.F32), java.util.Set.of(DType.BF16)), seen[0]);
    assertTrue(messages.contains("mixed precision: the frozen VAE and text encoder in bf16, the UNet float32"),
        messages.toString());
    Trainer.Result b = Trainer.train(bf16.apply("b"), TrainerTest.QUIET, new TestHooks().loaded(look));
    List<Double> l = TrainerTest.losses(a);
    assertEquals(l, TrainerTest.losses(b), "deterministic");
    assertArrayEquals(TrainerTest.unet(a.finalModel()), TrainerTest.unet(b.finalModel()));
    System.out.println("bf16, frozen VAE/text encoder in float32 vs bf16: " + ref + " vs " + l);
    for (int i = 0; i < ref.size(); i++) {
      assertTrue(Double.isFinite(l.get(i)) && l.get(i) > 0, l.toString());
      assertNotEquals(ref.get(i), l.get(i), "step " + (i + 1) + ": the bf16 VAE/encoder change the latents");
      assertEquals(ref.get(i), l.get(i), 0.05 * ref.get(i), "step " + (i + 1));
    }
    // The published model: the UNet float32, the frozen components copied from the input as they were.
    assertArrayEquals(Files.readAllBytes(tmp.resolve("model/vae/diffusion_pytorch_model.safetensors")),
        Files.readAllBytes(a.finalModel().resolve("vae/diffusion_pytorch_model.safetensors")));
    assertEquals(TrainerTest.unet(tmp.resolve("model")).length, TrainerTest.unet(a.finalModel()).length);

    // Resume: 2 + 2 steps equal 4 straight.
    TrainOptions first = bf16.apply("resumed");
    first.maxSteps = 2;
    Trainer.Result r1 = Trainer.train(first, TrainerTest.QUIET, new TestHooks().loaded(look));
    TrainOptions second = bf16.apply("resumed");
    second.resume = "latest";
    Trainer.Result r2 = Trainer.train(second, TrainerTest.QUIET, new TestHooks().loaded(look));
    List<Double> joined = new ArrayList<>(TrainerTest.losses(r1));
    joined.addAll(TrainerTest.losses(r2));
    assertEquals(l, joined);
    assertArrayEquals(TrainerTest.unet(a.finalModel()), TrainerTest.unet(r2.finalModel()));

    // A trained text encoder stays float32; only the VAE is cast.
    TrainOptions te = bf16.apply("te");
    te.trainTextEncoder = true;
    te.maxSteps = 1;
    for (Trainer.StepMetrics m : Trainer.train(te, TrainerTest.QUIET, new TestHooks().loaded(look)).metrics()) assertTrue(Double.isFinite(m.loss()));
    assertEquals(new Dtypes(java.util.Set.of(DType.F32), java.util.Set.of(DType.F32), java.util.Set.of(DType.BF16)), seen[0]);
  }
}

package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.Precision;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/** --dtype on the CPU: parsing, refusals, the bf16 path where libtorch runs it, built-in configs, random weights. */
class DTypeTest {

  @Test
  void parsesDtypeNames() {
    assertEquals(DType.F32, Precision.parse("f32"));
    assertEquals(DType.F16, Precision.parse("fp16"));
    assertEquals(DType.BF16, Precision.parse("BF16"));
    UserInputException e = assertThrows(UserInputException.class, () -> Precision.parse("f64"));
    assertEquals("unknown dtype 'f64' (f32, f16 or bf16)", e.getMessage());
    assertEquals("bf16", Precision.name(DType.BF16));
  }

  @Test
  void f16IsRefusedOnTheCpuAndEverythingIsAllowedOnCuda() {
    ModelGolden.requireTorch();
    Precision.require(DType.F32, Device.CPU);
    Precision.require(DType.F16, Device.cuda(0)); // a dtype check only: no device is touched
    Precision.require(DType.BF16, Device.cuda(0));
    UserInputException e = assertThrows(UserInputException.class, () -> Precision.require(DType.F16, Device.CPU));
    assertTrue(e.getMessage().startsWith("--dtype f16 is not supported on the CPU"), e.getMessage());
  }

  @Test
  void loadingRefusesCpuF16BeforeReadingAnything(@TempDir Path tmp) {
    ModelGolden.requireTorch();
    Path model = RandomModelFolder.write(tmp.resolve("m"), 1);
    long live = Torch.liveTensors();
    assertThrows(UserInputException.class, () -> DiffusersModel.load(model, null, Device.CPU, DType.F16));
    assertEquals(live, Torch.liveTensors());
  }

  /** The probe and reality agree: where bf16 is allowed, the whole tiny pipeline's models load and run in bf16. */
  @Test
  void bf16OnTheCpuRunsWhereAllowed(@TempDir Path tmp) {
    ModelGolden.requireTorch();
    Assumptions.assumeTrue(Precision.cpuBf16Problem().isEmpty(),
        () -> "this libtorch has no CPU bf16 kernels: " + Precision.cpuBf16Problem().orElse(""));
    Path model = RandomModelFolder.write(tmp.resolve("m"), 1);
    try (DiffusersModel m = DiffusersModel.load(model, null, Device.CPU, DType.BF16);
        ModeGuard ng = Autograd.noGrad();
        TensorScope s = TensorScope.open()) {
      assertEquals(DType.BF16, m.unet().dtype());
      assertEquals(DType.BF16, m.unet().params().get("conv_in.weight").dtype());
      Tensor ctx = m.textEncoder().encode(Tensor.of(new long[] {512, 1, 2, 513}, 1, 4), 1);
      assertEquals(DType.BF16, ctx.dtype());
      Tensor eps = m.unet().forward(Tensor.zeros(DType.F32, Device.CPU, 1, 4, 8, 8), Tensor.of(new long[] {10}, 1), ctx);
      assertEquals(DType.F32, eps.dtype(), "UNet results come back in float32");
      Tensor img = m.vae().decode(eps);
      assertEquals(DType.F32, img.dtype());
      for (float v : img.toFloatArray()) assertTrue(Float.isFinite(v));
    }
  }

  /** bf16 keeps 8 mantissa bits: the golden UNet's output stays close to float32 (loose: 3% of the output range). */
  @Test
  void bf16UnetIsCloseToF32OnTheCpu() {
    Assumptions.assumeTrue(!Torch.isAvailable() || Precision.cpuBf16Problem().isEmpty(), "no CPU bf16 kernels");
    try (ModelGolden g = ModelGolden.open("unet_a")) {
      double rel = bf16VersusF32(g, Device.CPU);
      assertTrue(rel < 0.03, "bf16 vs f32: max|diff| / max|f32| = " + rel);
    }
  }

  /** max|bf16 − f32| / max|f32| of the golden UNet's output on {@code device}. */
  static double bf16VersusF32(ModelGolden g, Device device) {
    UNetConfig c = UNetConfig.read(g.configFile);
    try (UNet2DConditionModel f32 = UNet2DConditionModel.LOADER.load(c, g.weights, device);
        UNet2DConditionModel bf16 = UNet2DConditionModel.LOADER.load(c, g.weights, device, DType.BF16);
        ModeGuard ng = Autograd.noGrad();
        TensorScope s = TensorScope.open()) {
      Tensor x = g.input("input/sample").to(device), t = g.input("input/timestep").to(device),
          ctx = g.input("input/encoder_hidden_states").to(device);
      float[] a = f32.forward(x, t, ctx).toFloatArray(), b = bf16.forward(x, t, ctx).toFloatArray();
      double maxDiff = 0, maxRef = 0;
      for (int i = 0; i < a.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
        maxRef = Math.max(maxRef, Math.abs(a[i]));
      }
      System.out.printf("[bf16] unet_a on %s: max|bf16 - f32| %.3e, max|f32| %.3e%n", device, maxDiff, maxRef);
      assertTrue(maxDiff > 0, "bf16 really ran in bf16");
      return maxDiff / maxRef;
    }
  }

  @Test
  void builtInConfigsAreTheRealCheckpointLayouts() {
    assertEquals(859_520_964L,
        RealCheckpointLayoutTest.count(UNet2DConditionModel.LOADER.parameterShapes(BuiltInUNets.config("sd15"))));
    assertEquals(865_910_724L,
        RealCheckpointLayoutTest.count(UNet2DConditionModel.LOADER.parameterShapes(BuiltInUNets.config("sd21"))));
    assertEquals(1024, BuiltInUNets.config("sd21").crossAttentionDim());
    assertEquals(768, BuiltInUNets.config("sd15").crossAttentionDim());
    assertTrue(BuiltInUNets.config("sd21").useLinearProjection());
    assertEquals(32, BuiltInUNets.config("tiny").crossAttentionDim());
    assertThrows(UserInputException.class, () -> BuiltInUNets.config("sdxl"));
  }

  @Test
  void randomWeightsAreSeededAndFollowTheNormRule() {
    ModelGolden.requireTorch();
    Map<String, long[]> shapes = UNet2DConditionModel.LOADER.parameterShapes(BuiltInUNets.config("tiny"));
    try (RandomWeights a = new RandomWeights(shapes, 5); RandomWeights b = new RandomWeights(shapes, 5);
        RandomWeights c = new RandomWeights(shapes, 6); TensorScope s = TensorScope.open()) {
      float[] x = a.loadF32("conv_in.weight").toFloatArray();
      assertArrayEquals(x, b.loadF32("conv_in.weight").toFloatArray());
      assertFalse(java.util.Arrays.equals(x, c.loadF32("conv_in.weight").toFloatArray()));
      for (float v : a.loadF32("conv_norm_out.weight").toFloatArray()) assertEquals(1f, v);
      assertTrue(UNet2DConditionModel.LOADER.check(BuiltInUNets.config("tiny"), a).isEmpty());
    }
  }
}

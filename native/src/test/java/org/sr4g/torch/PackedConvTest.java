package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Conv weights packed once for oneDNN: the same values as the dense path, and the fallbacks. */
class PackedConvTest {
  @BeforeEach
  void torch() {
    NativeAssume.torch();
  }

  @Test
  void packedEqualsDenseForTheUNetsConvShapes() {
    // {in, out, kernel, stride, padding}: 3×3 (resnets, conv_in/out), 3×3 stride 2 (downsamplers, UNet and VAE
    // padding), 1×1 (shortcuts, proj_in/out, quant convs).
    int[][] shapes = {{4, 32, 3, 1, 1}, {32, 32, 3, 1, 1}, {32, 32, 3, 2, 1}, {32, 32, 3, 2, 0}, {32, 64, 1, 1, 0}, {64, 4, 3, 1, 1}};
    try (TensorScope scope = TensorScope.open(); Generator gen = new Generator(Device.CPU, 5); ModeGuard ng = Autograd.noGrad()) {
      for (int[] s : shapes) {
        Tensor x = Tensor.randn(gen, DType.F32, 2, s[0], 16, 16), w = Tensor.randn(gen, DType.F32, s[1], s[0], s[2], s[2]);
        Tensor b = Tensor.randn(gen, DType.F32, s[1]);
        Tensor dense = Nn.conv2d(x, w, b, s[3], s[4], 1);
        Tensor packed = Nn.packConv2d(w, s[3], s[4], 1);
        assertTrue(Nn.isPacked(packed));
        assertFalse(Nn.isPacked(w));
        Tensor out = Nn.conv2d(x, packed, b, s[3], s[4], 1);
        assertArrayEquals(dense.shape(), out.shape());
        double rel = TensorDiff.relative(out, dense);
        assertTrue(rel <= 1e-5, java.util.Arrays.toString(s) + ": packed differs by " + rel);
        // read back dense, in the original layout
        assertArrayEquals(w.toFloatArray(), packed.toFloatArray());
      }
    }
  }

  @Test
  void gradientsAndAutocastFallBackToTheDensePath() {
    try (TensorScope scope = TensorScope.open(); Generator gen = new Generator(Device.CPU, 6)) {
      fallbacks(gen);
    }
  }

  private static void fallbacks(Generator gen) {
    Tensor x = Tensor.randn(gen, DType.F32, 1, 8, 6, 6).requiresGrad(true);
    Tensor w = Tensor.randn(gen, DType.F32, 8, 8, 3, 3), b = Tensor.randn(gen, DType.F32, 8);
    Tensor packed = Nn.packConv2d(w, 1, 1, 1);
    Nn.conv2d(x, packed, b, 1, 1, 1).sum().backward();
    float[] viaPacked = x.grad().toFloatArray();
    Tensor x2 = x.detach().requiresGrad(true);
    Nn.conv2d(x2, w, b, 1, 1, 1).sum().backward();
    assertArrayEquals(x2.grad().toFloatArray(), viaPacked, 1e-5f);
    try (ModeGuard ng = Autograd.noGrad(); ModeGuard ac = Torch.autocast(Device.CPU, DType.BF16)) {
      assertEquals(DType.BF16, Nn.conv2d(x, packed, b, 1, 1, 1).dtype()); // autocast's policy, as for a dense weight
    }
  }

  @Test
  void aPackedWeightCannotBeWrittenAndAWrongShapeIsAnError() {
    try (TensorScope scope = TensorScope.open(); Generator gen = new Generator(Device.CPU, 7)) {
      refusals(gen);
    }
  }

  private static void refusals(Generator gen) {
    Tensor w = Tensor.randn(gen, DType.F32, 4, 4, 3, 3);
    Tensor packed = Nn.packConv2d(w, 1, 1, 1);
    assertThrows(TorchException.class, () -> packed.copyFrom(w));
    assertThrows(TorchException.class, () -> Nn.packConv2d(Tensor.randn(gen, DType.F32, 4, 4), 1, 1, 1));
    try (ModeGuard ng = Autograd.noGrad()) {
      assertThrows(TorchException.class, () -> Nn.conv2d(Tensor.randn(gen, DType.F32, 1, 3, 8, 8), packed, null, 1, 1, 1));
    }
  }
}

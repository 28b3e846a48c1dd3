package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Autograd#backward(List, List)}: several outputs with given gradients, and its error paths. */
class BackwardWithTest {
  @BeforeEach
  void need() {
    NativeAssume.torch();
  }

  @Test
  void twoOutputsWithGivenGradientsAccumulateIntoLeaves() {
    long before = Torch.liveTensors();
    try (TensorScope scope = TensorScope.open()) {
      Tensor x = Tensor.of(new float[] {1, -2, 3}, 3).requiresGrad(true);
      Tensor w = Tensor.of(new float[] {0.5f, 4}, 2).requiresGrad(true);
      Tensor y1 = x.mul(2);                                      // dy1/dx = 2
      Tensor y2 = x.square().reshape(3, 1).mul(w.reshape(1, 2)); // [3, 2]: x_i² w_j
      Tensor g1 = Tensor.of(new float[] {1, 10, 100}, 3);
      Tensor g2 = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
      Autograd.backward(List.of(y1, y2), List.of(g1, g2));
      // x.grad_i = 2 g1_i + 2 x_i Σ_j w_j g2_ij ; w.grad_j = Σ_i x_i² g2_ij
      float[] xs = {1, -2, 3}, ws = {0.5f, 4};
      float[] gx = new float[3], gw = new float[2];
      for (int i = 0; i < 3; i++) {
        gx[i] = 2 * new float[] {1, 10, 100}[i] + 2 * xs[i] * (ws[0] * (2 * i + 1) + ws[1] * (2 * i + 2));
        for (int j = 0; j < 2; j++) gw[j] += xs[i] * xs[i] * (2 * i + j + 1);
      }
      assertArrayEquals(gx, x.grad().toFloatArray(), 1e-5f);
      assertArrayEquals(gw, w.grad().toFloatArray(), 1e-5f);
      // a second pass accumulates, as Tensor.backward does
      Autograd.backward(List.of(x.mul(3).sum()), null);
      float[] twice = x.grad().toFloatArray();
      for (int i = 0; i < 3; i++) assertEquals(gx[i] + 3, twice[i], 1e-5f);
    }
    assertEquals(before, Torch.liveTensors());
  }

  @Test
  void nullGradientMeansOneForAScalarOutput() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor x = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
      Autograd.backward(List.of(x.square().sum(), x.mul(5)), Arrays.asList(null, Tensor.of(new float[] {1, 1}, 2)));
      assertArrayEquals(new float[] {7, 9}, x.grad().toFloatArray(), 1e-6f);
    }
  }

  @Test
  void wrongGradientIsJavaExceptionAndTheThreadKeepsWorking() {
    long before = Torch.liveTensors();
    try (TensorScope scope = TensorScope.open()) {
      Tensor x = Tensor.of(new float[] {1, 2, 3}, 3).requiresGrad(true);
      Tensor y = x.mul(2);
      TorchException e = assertThrows(TorchException.class,
          () -> Autograd.backward(List.of(y), List.of(Tensor.ones(DType.F32, Device.CPU, 4))));
      assertTrue(e.getMessage().toLowerCase().contains("shape"), e.getMessage());
      assertNull(x.grad(), "nothing accumulated by the failed call");
      // no gradient for a non-scalar output
      assertThrows(TorchException.class, () -> Autograd.backward(List.of(y), null));
      // an output that records no graph
      assertThrows(TorchException.class,
          () -> Autograd.backward(List.of(Tensor.ones(DType.F32, Device.CPU, 1)), null));
      assertThrows(IllegalArgumentException.class, () -> Autograd.backward(List.of(y), List.of()));
      assertThrows(IllegalArgumentException.class, () -> Autograd.backward(List.of(), null));
      for (int i = 0; i < 100; i++)
        assertThrows(TorchException.class,
            () -> Autograd.backward(List.of(y), List.of(Tensor.ones(DType.F32, Device.CPU, 2, 2))));
      Autograd.backward(List.of(y), List.of(Tensor.ones(DType.F32, Device.CPU, 3)));
      assertArrayEquals(new float[] {2, 2, 2}, x.grad().toFloatArray());
    }
    assertEquals(before, Torch.liveTensors());
  }

  @Test
  void gradModeIsReported() {
    assertTrue(Autograd.isGradEnabled());
    try (ModeGuard ng = Autograd.noGrad()) {
      assertEquals(false, Autograd.isGradEnabled());
    }
    assertTrue(Autograd.isGradEnabled());
  }
}

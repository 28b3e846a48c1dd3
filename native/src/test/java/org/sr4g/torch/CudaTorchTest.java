package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** libtorch on CUDA from Java. Runs only where libtorch sees a GPU (skipped with the reason otherwise). */
class CudaTorchTest {
  @BeforeEach
  void need() {
    NativeAssume.cudaTorch();
  }

  @Test
  void opsOnCudaMatchCpu() {
    Device cuda = Device.cuda(0);
    try (TensorScope scope = TensorScope.open(); Generator g = new Generator(Device.CPU, 1)) {
      Tensor x = Tensor.randn(g, DType.F32, 2, 4, 8, 8), w = Tensor.randn(g, DType.F32, 8, 4, 3, 3);
      Tensor cpu = Nn.groupNorm(Nn.conv2d(x, w, null, 1, 1, 1), 4, null, null, 1e-5).silu();
      Tensor gpu = Nn.groupNorm(Nn.conv2d(x.to(cuda), w.to(cuda), null, 1, 1, 1), 4, null, null, 1e-5).silu();
      assertEquals(cuda, gpu.device());
      assertArrayEquals(cpu.toFloatArray(), gpu.toFloatArray(), 1e-3f);
      Tensor q = Tensor.randn(g, DType.F32, 2, 16, 8);
      assertArrayEquals(Nn.attention(q, q, q, null, false).toFloatArray(),
          Nn.attention(q.to(cuda), q.to(cuda), q.to(cuda), null, false).toFloatArray(), 1e-4f);
      try (Generator gc = new Generator(cuda, 5); Generator gc2 = new Generator(cuda, 5)) {
        assertArrayEquals(Tensor.randn(gc, DType.F32, 64).toFloatArray(), Tensor.randn(gc2, DType.F32, 64).toFloatArray());
      }
      Torch.cudaSynchronize(0);
      long[] mem = Torch.cudaMemory(0);
      assertTrue(mem[0] > 0 && mem[1] >= mem[0], "allocated/peak " + mem[0] + "/" + mem[1]);
    }
  }

  @Test
  @SuppressWarnings("try")
  void bf16AutocastOnCuda() {
    Device cuda = Device.cuda(0);
    try (TensorScope scope = TensorScope.open()) {
      Tensor a = Tensor.ones(DType.F32, cuda, 4, 4);
      try (ModeGuard ac = Torch.autocastBf16()) {
        assertEquals(DType.BF16, a.matmul(a).dtype());
      }
      assertEquals(DType.F32, a.matmul(a).dtype());
    }
  }

  @Test
  @SuppressWarnings("try")
  void fp16AutocastAndGradScalerStepOnCuda() {
    Device cuda = Device.cuda(0);
    try (TinyNet net = new TinyNet(cuda, 2); AdamW opt = new AdamW(net.params().list(), 1e-3);
        TensorScope scope = TensorScope.open(); Generator g = new Generator(Device.CPU, 4)) {
      Tensor x = Tensor.randn(g, DType.F32, 4, TinyNet.IN_CHANNELS, TinyNet.SIZE, TinyNet.SIZE).to(cuda);
      Tensor y = Tensor.randn(g, DType.F32, 4, 1).to(cuda);
      GradScaler scaler = new GradScaler();
      Tensor loss;
      try (ModeGuard ac = Torch.autocast(cuda, DType.F16)) {
        Tensor a = Tensor.ones(DType.F32, cuda, 4, 4);
        assertEquals(DType.F16, a.matmul(a).dtype());
        loss = Nn.mseLoss(net.forward(x).to(DType.F32), y);
      }
      assertEquals(DType.F32, loss.dtype());
      scaler.scale(loss).backward();
      float before = net.params().get("head.w").toFloatArray()[0];
      assertTrue(scaler.step(opt), "a clean fp16 step must run");
      scaler.update();
      assertEquals(1, opt.stepCount());
      assertTrue(before != net.params().get("head.w").toFloatArray()[0]);
      // An injected inf in one CUDA gradient: the fused check finds it, the step is skipped, the scale halves.
      net.params().zeroGrad();
      Tensor w = net.params().get("head.w");
      w.mul(Tensor.full(Double.POSITIVE_INFINITY, DType.F32, cuda, 1, TinyNet.WIDTH)).sum().backward();
      float[] kept = w.toFloatArray();
      assertFalse(scaler.step(opt));
      scaler.update();
      assertEquals(1, opt.stepCount());
      assertArrayEquals(kept, w.toFloatArray());
      assertEquals(32768f, scaler.scale());
    }
  }

  @Test
  void selfTestOnCuda() {
    SelfTest.Result r = SelfTest.run(Device.cuda(0), 5);
    assertTrue(r.ok(), r.toString());
  }
}

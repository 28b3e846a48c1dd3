package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Checkpoint}: a plain {@code backward()} through checkpointed segments gives the gradients of the same
 * computation without checkpointing (parameters inside the segments, inputs, ordinary ops between segments), recomputes
 * each segment once, reports a failing recompute as a {@link TorchException}, and leaks neither handles nor segments.
 */
class CheckpointTest {
  @BeforeEach
  void needTorch() {
    NativeAssume.torch();
  }

  private static Tensor[] weights() {
    return new Tensor[] {Tensor.of(new float[] {0.5f, 1.5f, -0.7f}, 3).requiresGrad(true),
        Tensor.of(new float[] {2f, -1f, 0.25f}, 3).requiresGrad(true),
        Tensor.of(new float[] {-0.4f, 0.9f, 1.1f}, 3).requiresGrad(true)};
  }

  /** a = tanh(x·w0) [segment], b = a·w1 [ordinary op], c = sin(b·w2) [segment]; loss = Σ (c + a)². */
  private static float[][] gradients(boolean checkpoint, boolean inputGrad, AtomicInteger calls) {
    try (TensorScope scope = TensorScope.open()) {
      Tensor x = Tensor.of(new float[] {0.3f, -1.2f, 2f}, 3);
      if (inputGrad) x.requiresGrad(true);
      Tensor[] w = weights();
      java.util.function.Function<List<Tensor>, Tensor> first = in -> {
        calls.incrementAndGet();
        return in.get(0).mul(w[0]).tanh();
      };
      java.util.function.Function<List<Tensor>, Tensor> second = in -> in.get(0).mul(w[2]).sin();
      Tensor a = checkpoint ? Checkpoint.run1(first, x) : first.apply(List.of(x));
      Tensor b = a.mul(w[1]);
      Tensor c = checkpoint ? Checkpoint.run1(second, b) : second.apply(List.of(b));
      c.add(a).square().sum().backward();
      float[][] g = new float[4][];
      for (int i = 0; i < 3; i++) g[i] = w[i].grad().toFloatArray();
      g[3] = inputGrad ? x.grad().toFloatArray() : new float[0];
      return g;
    }
  }

  @Test
  void plainBackwardGivesTheGradientsOfTheUncheckpointedComputation() {
    for (boolean inputGrad : new boolean[] {false, true}) {
      AtomicInteger plainCalls = new AtomicInteger(), ckptCalls = new AtomicInteger();
      float[][] plain = gradients(false, inputGrad, plainCalls), ckpt = gradients(true, inputGrad, ckptCalls);
      for (int i = 0; i < 4; i++) assertArrayEquals(plain[i], ckpt[i], 1e-6f, "gradient " + i + " inputGrad " + inputGrad);
      assertEquals(1, plainCalls.get());
      assertEquals(2, ckptCalls.get(), "the segment ran once in the forward and once in the backward");
    }
    assertEquals(0, Checkpoint.pendingSegments());
  }

  @Test
  void parametersInsideGetGradientsEvenWhenNoInputNeedsOne() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor w = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(true);
      Tensor x = Tensor.of(new float[] {3f, 4f}, 2);
      Tensor y = Checkpoint.run1(in -> in.get(0).mul(w), x);
      assertTrue(y.requiresGrad());
      y.sum().backward();
      assertArrayEquals(new float[] {3f, 4f}, w.grad().toFloatArray());
      assertNull(x.grad());
    }
  }

  @Test
  void withoutGradModeItIsAPlainCall() {
    try (TensorScope scope = TensorScope.open(); ModeGuard ng = Autograd.noGrad()) {
      Tensor w = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(true);
      Tensor y = Checkpoint.run1(in -> in.get(0).mul(w), Tensor.of(new float[] {3f, 4f}, 2));
      assertArrayEquals(new float[] {3f, 8f}, y.toFloatArray());
      assertEquals(0, Checkpoint.pendingSegments());
    }
  }

  @Test
  void aFailingRecomputeFailsTheBackwardWithItsMessage() {
    long live = Torch.liveTensors();
    try (TensorScope scope = TensorScope.open()) {
      Tensor w = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(true);
      AtomicInteger calls = new AtomicInteger();
      Tensor y = Checkpoint.run1(in -> {
        if (calls.incrementAndGet() > 1) throw new IllegalStateException("boom in the recompute");
        return in.get(0).mul(w);
      }, Tensor.of(new float[] {3f, 4f}, 2));
      TorchException e = assertThrows(TorchException.class, () -> y.sum().backward());
      assertTrue(e.getMessage().contains("boom in the recompute"), e.getMessage());
      assertNull(w.grad());
      // the thread keeps working
      Tensor z = Tensor.of(new float[] {1f}, 1).mul(w.detach().sum());
      assertEquals(3.0, z.item(), 0);
    }
    assertEquals(live, Torch.liveTensors(), "no handle leaked");
    assertEquals(0, Checkpoint.pendingSegments());
  }

  @Test
  void aDroppedGraphReleasesItsSegmentAndNothingLeaks() {
    long live = Torch.liveTensors();
    try (TensorScope scope = TensorScope.open()) {
      Tensor w = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(true);
      for (int i = 0; i < 5; i++) Checkpoint.run1(in -> in.get(0).mul(w).exp(), Tensor.of(new float[] {3f, 4f}, 2));
      assertEquals(5, Checkpoint.pendingSegments());
    }
    assertEquals(0, Checkpoint.pendingSegments(), "every node gone with its outputs");
    assertEquals(live, Torch.liveTensors());
  }

  @Test
  void aSecondBackwardThroughTheSegmentIsAnError() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor w = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(true);
      Tensor y = Checkpoint.run1(in -> in.get(0).mul(w), Tensor.of(new float[] {3f, 4f}, 2));
      Tensor loss = y.sum();
      loss.backward();
      assertNotNull(w.grad());
      assertThrows(TorchException.class, loss::backward);
    }
  }
}

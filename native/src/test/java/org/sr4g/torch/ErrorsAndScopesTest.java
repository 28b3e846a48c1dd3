package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Error paths (libtorch errors become Java exceptions, the thread keeps working) and ownership rules. */
class ErrorsAndScopesTest {
  @BeforeEach
  void need() {
    NativeAssume.torch();
  }

  @Test
  void wrongShapeIsJavaExceptionWithLibtorchMessage() {
    long before = Torch.liveTensors();
    try (TensorScope scope = TensorScope.open()) {
      Tensor a = Tensor.ones(DType.F32, Device.CPU, 2, 3), b = Tensor.ones(DType.F32, Device.CPU, 4, 5);
      TorchException e = assertThrows(TorchException.class, () -> a.matmul(b));
      assertTrue(e.getMessage().contains("cannot be multiplied") || e.getMessage().contains("size mismatch"),
          e.getMessage());
      assertFalse(e.getMessage().contains("frame #"), "no C++ backtrace in the message: " + e.getMessage());
      TorchException c = assertThrows(TorchException.class,
          () -> Nn.conv2d(a, Tensor.ones(DType.F32, Device.CPU, 1, 1, 3, 3), null, 1, 0, 1));
      assertFalse(c.getMessage().isBlank());
      assertThrows(TorchException.class, () -> a.add(b));
      assertThrows(TorchException.class, () -> a.view(7));
      assertThrows(TorchException.class, () -> Tensor.of(new float[] {1, 2}, 2).item());
      // the thread keeps working, many times over, and failures leak no handle
      for (int i = 0; i < 200; i++) assertThrows(TorchException.class, () -> a.matmul(b));
      assertArrayEquals(new float[] {3, 3, 3, 3}, a.matmul(a.transpose(0, 1)).toFloatArray());
    }
    assertEquals(before, Torch.liveTensors());
  }

  /**
   * A handle holds one counted reference to a TensorImpl and arguments are borrowed without counting: freeing an input
   * must not free what still shares its storage (views, list results, copies kept in vectors such as cat's), and
   * using the same handle as several arguments of one call must not change its count.
   */
  @Test
  void handlesAreCountedReferencesAndArgumentsAreBorrowed() {
    long before = Torch.liveTensors();
    Tensor base = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
    Tensor view = base.view(3, 2);
    Tensor row = base.slice(0, 1, 2, 1);
    java.util.List<Tensor> parts = base.chunk(3, 1);
    Tensor view23 = view.view(2, 3);
    Tensor cat = Tensor.cat(java.util.List.of(base, base, view23), 0);  // one handle twice, a view of it once
    Tensor sq = base.mul(base);
    base.close();  // the views, parts and results keep the storage alive
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, view.toFloatArray());
    assertArrayEquals(new float[] {4, 5, 6}, row.toFloatArray());
    try (TensorScope scope = TensorScope.open()) {
      assertArrayEquals(new float[] {2, 5}, parts.get(1).contiguous().toFloatArray());
    }
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, cat.toFloatArray());
    assertArrayEquals(new float[] {1, 4, 9, 16, 25, 36}, sq.toFloatArray());
    view.close();
    view23.close();
    assertArrayEquals(new float[] {4, 5, 6}, row.toFloatArray());
    row.close();
    for (Tensor p : parts) p.close();
    cat.close();
    sq.close();
    assertEquals(before, Torch.liveTensors());
  }

  @Test
  void javaSideArgumentChecks() {
    assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[] {1, 2, 3}, 2, 2));
    assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[] {1}, -1));
  }

  @Test
  void useAfterCloseThrowsIllegalState() {
    Tensor escaped;
    try (TensorScope scope = TensorScope.open()) {
      escaped = Tensor.ones(DType.F32, Device.CPU, 2);
    }
    assertTrue(escaped.isFreed());
    IllegalStateException e = assertThrows(IllegalStateException.class, escaped::toFloatArray);
    assertTrue(e.getMessage().contains("freed"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> escaped.add(1));
    Tensor own = Tensor.ones(DType.F32, Device.CPU, 2);
    own.close();
    own.close(); // idempotent
    assertThrows(IllegalStateException.class, own::shape);
  }

  @Test
  void keepHandsToEnclosingScopeAndCountsBalance() {
    long before = Torch.liveTensors();
    Tensor kept;
    try (TensorScope outer = TensorScope.open()) {
      try (TensorScope inner = TensorScope.open()) {
        Tensor x = Tensor.ones(DType.F32, Device.CPU, 3).mul(2).add(1);
        kept = inner.keep(x);
        assertEquals(before + 3, Torch.liveTensors());
      }
      assertEquals(before + 1, Torch.liveTensors());
      assertArrayEquals(new float[] {3, 3, 3}, kept.toFloatArray());
      assertEquals(1, outer.size());
    }
    assertTrue(kept.isFreed());
    assertEquals(before, Torch.liveTensors());
    // keep from the outermost scope: the caller owns it
    Tensor mine;
    try (TensorScope only = TensorScope.open()) {
      mine = only.keep(Tensor.zeros(DType.F32, Device.CPU, 1));
    }
    assertFalse(mine.isFreed());
    mine.close();
    assertEquals(before, Torch.liveTensors());
  }

  @Test
  void scopesArePerThread() throws Exception {
    try (TensorScope mine = TensorScope.open()) {
      AtomicReference<Throwable> err = new AtomicReference<>();
      Tensor shared = Tensor.ones(DType.F32, Device.CPU, 2);
      Thread t = new Thread(() -> {
        try {
          // no scope open on this thread: the result belongs to the caller, not to `mine`
          Tensor r = shared.add(1);
          assertArrayEquals(new float[] {2, 2}, r.toFloatArray());
          r.close();
          assertThrows(IllegalStateException.class, mine::close);
          assertThrows(IllegalStateException.class, shared::close); // owned by `mine`, on the other thread
        } catch (Throwable e) {
          err.set(e);
        }
      });
      t.start();
      t.join();
      if (err.get() != null) throw new AssertionError(err.get());
      assertEquals(1, mine.size());
    }
  }

  @Test
  void cudaRequestOnCpuOnlyEngineIsAnException() {
    if (Torch.cudaDeviceCount() > 0) return; // only meaningful without a GPU
    assertThrows(TorchException.class, () -> Tensor.zeros(DType.F32, Device.cuda(0), 2));
    assertThrows(TorchException.class, () -> Torch.cudaMemory(0));
  }
}

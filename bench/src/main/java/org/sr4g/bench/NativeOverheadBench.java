package org.sr4g.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/**
 * Java-side cost per libtorch op: the same tiny ops as native/src/bench/op_loop.cpp (16-element add, scalar mul,
 * 8×8 matmul, a chain of four adds), each result created and freed, here through FFM + TensorScope. Tiny tensors so
 * the kernel time is small and the difference to the C++ loop is the binding's overhead.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class NativeOverheadBench {
  private Tensor a, b, m;

  @Setup(Level.Trial)
  public void setup() {
    if (!Torch.isAvailable()) throw new IllegalStateException(Torch.unavailableReason().orElse("?"));
    a = Tensor.ones(DType.F32, Device.CPU, 16);
    b = Tensor.ones(DType.F32, Device.CPU, 16);
    m = Tensor.ones(DType.F32, Device.CPU, 8, 8);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    a.close();
    b.close();
    m.close();
  }

  @Benchmark
  public long add() {
    try (TensorScope s = TensorScope.open()) {
      return a.add(b).isFreed() ? 0 : 1;
    }
  }

  @Benchmark
  public long mulScalar() {
    try (TensorScope s = TensorScope.open()) {
      return a.mul(2.0).isFreed() ? 0 : 1;
    }
  }

  @Benchmark
  public long matmul8() {
    try (TensorScope s = TensorScope.open()) {
      return m.matmul(m).isFreed() ? 0 : 1;
    }
  }

  @Benchmark
  public long addChain4() {
    try (TensorScope s = TensorScope.open()) {
      return a.add(b).add(b).add(b).add(b).isFreed() ? 0 : 1;
    }
  }

  /** The floor: one trivial downcall (an atomic load in C). */
  @Benchmark
  public long liveCounter() {
    return Torch.liveTensors();
  }
}

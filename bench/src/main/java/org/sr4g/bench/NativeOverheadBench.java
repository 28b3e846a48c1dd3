package org.sr4g.bench;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/**
 * Java-side cost per libtorch op, against the same ops in a C++ loop, in one JMH run.
 *
 * <p>The question: how much does calling a tiny libtorch op from Java (FFM downcall, handle, {@code Tensor} object,
 * scope bookkeeping, the free) add to the op itself? {@code cpp*} call {@code sr4g_op_loop_run} of
 * {@code native/src/bench/op_loop.cpp} (built into {@code native/target/native-build/libsr4g_oploop.so}, or
 * {@code -Dsr4g.oploop=PATH}), which runs {@value #N} iterations of the op directly on {@code at::Tensor}; the
 * {@code java*} benchmarks run the same ops through the Java API. Both report time per op (16-element add, scalar mul,
 * 8×8 matmul, a chain of four adds), every result created and freed.
 *
 * <p>Two Java shapes: {@code javaAdd} etc. open a {@link TensorScope} per op (the worst case: a scope, a free call and
 * one op), {@code javaAddInScope16} runs 16 adds in one scope, as model code does (a UNet block is one scope of
 * tens of ops), so the per-scope cost is shared.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class NativeOverheadBench {
  static final int N = 1000;
  private Tensor a, b, m;
  private MethodHandle cppLoop;

  @Setup(Level.Trial)
  public void setup() {
    if (!Torch.isAvailable()) throw new IllegalStateException(Torch.unavailableReason().orElse("?"));
    a = Tensor.ones(DType.F32, Device.CPU, 16);
    b = Tensor.ones(DType.F32, Device.CPU, 16);
    m = Tensor.ones(DType.F32, Device.CPU, 8, 8);
    Path lib = Path.of(System.getProperty("sr4g.oploop", "native/target/native-build/libsr4g_oploop.so"));
    if (Files.isRegularFile(lib)) {
      SymbolLookup l = SymbolLookup.libraryLookup(lib, Arena.global());
      cppLoop = Linker.nativeLinker().downcallHandle(l.find("sr4g_op_loop_run").orElseThrow(),
          FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    a.close();
    b.close();
    m.close();
  }

  private void cpp(int op) throws Throwable {
    if (cppLoop == null)
      throw new IllegalStateException("no libsr4g_oploop.so: run from the repository root after the native build, or"
          + " pass -Dsr4g.oploop=PATH");
    if ((long) cppLoop.invokeExact(op, (long) N) != 0) throw new IllegalStateException("op_loop failed");
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public void cppAdd() throws Throwable { cpp(0); }

  @Benchmark
  @OperationsPerInvocation(N)
  public void cppMulScalar() throws Throwable { cpp(1); }

  @Benchmark
  @OperationsPerInvocation(N)
  public void cppMatmul8() throws Throwable { cpp(2); }

  @Benchmark
  @OperationsPerInvocation(N)
  public void cppAddChain4() throws Throwable { cpp(3); }

  @Benchmark
  public void javaAdd(Blackhole bh) {
    try (TensorScope s = TensorScope.open()) {
      bh.consume(a.add(b));
    }
  }

  @Benchmark
  public void javaMulScalar(Blackhole bh) {
    try (TensorScope s = TensorScope.open()) {
      bh.consume(a.mul(2.0));
    }
  }

  @Benchmark
  public void javaMatmul8(Blackhole bh) {
    try (TensorScope s = TensorScope.open()) {
      bh.consume(m.matmul(m));
    }
  }

  @Benchmark
  public void javaAddChain4(Blackhole bh) {
    try (TensorScope s = TensorScope.open()) {
      bh.consume(a.add(b).add(b).add(b).add(b));
    }
  }

  /** 16 independent adds in one scope (freed by one native call at close): the per-op cost as model code pays it. */
  @Benchmark
  @OperationsPerInvocation(16)
  public void javaAddInScope16(Blackhole bh) {
    try (TensorScope s = TensorScope.open()) {
      for (int i = 0; i < 16; i++) bh.consume(a.add(b));
    }
  }

  /** The floor: one trivial downcall (an atomic load in C, a critical downcall). */
  @Benchmark
  public long liveCounter() {
    return Torch.liveTensors();
  }
}

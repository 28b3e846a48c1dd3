package org.sr4g.torch;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A libtorch tensor seen from Java: a handle to one heap-allocated {@code at::Tensor} in the C layer.
 *
 * <p>Ownership: a tensor made while a {@link TensorScope} is open on this thread belongs to that scope and is freed
 * when it closes; otherwise the caller owns it and must {@link #close()} it (or hand it to an owner such as
 * {@link Params}). Any use after free throws {@link IllegalStateException}. Ops never consume their inputs: every op
 * returns a new handle (which may share storage with the input, as views do in libtorch).
 *
 * <p>Threading: a tensor may be read from any thread, but freeing it while another thread uses it is a bug the API
 * does not detect; scopes are per thread.
 */
public final class Tensor implements AutoCloseable {
  private long handle;
  TensorScope owner;

  private Tensor(long handle) {
    this.handle = handle;
  }

  /** Wraps a fresh native handle: joins the current scope, if any. */
  static Tensor adopt(long handle) {
    Tensor t = new Tensor(handle);
    TensorScope s = TensorScope.current();
    if (s != null) s.add(t);
    return t;
  }

  /** The hot path of every op: wraps out-value 0 of the call just made, reusing the caller's thread-local lookup. */
  static Tensor adopt(Native.Scratch scratch) {
    Tensor t = new Tensor(scratch.out(0));
    TensorScope s = scratch.scope;
    if (s != null) s.add(t);
    return t;
  }

  long handle() {
    long h = handle;
    if (h == 0) throw new IllegalStateException("tensor used after it was freed (its TensorScope closed or close() was called)");
    return h;
  }

  /** Called by the owner that freed the native handle. */
  void invalidate() {
    handle = 0;
  }

  public boolean isFreed() {
    return handle == 0;
  }

  /** Frees the native tensor now (also when a scope owns it: it leaves the scope). Idempotent. */
  @Override
  public void close() {
    if (handle == 0) return;
    if (owner != null) owner.remove(this);
    long h = handle;
    handle = 0;
    try {
      Native.check((long) Native.FREE.invokeExact(h));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  // ---------------------------------------------------------------------------------------------------- creation

  public static Tensor of(float[] data, long... shape) {
    return fromArray(MemorySegment.ofArray(data), DType.F32, Device.CPU, shape);
  }

  public static Tensor of(long[] data, long... shape) {
    return fromArray(MemorySegment.ofArray(data), DType.I64, Device.CPU, shape);
  }

  public static Tensor of(boolean[] data, long... shape) {
    byte[] b = new byte[data.length];
    for (int i = 0; i < b.length; i++) b[i] = (byte) (data[i] ? 1 : 0);
    return fromArray(MemorySegment.ofArray(b), DType.BOOL, Device.CPU, shape);
  }

  /** Copies {@code data} (elements of {@code dtype}, row-major) into a new tensor on {@code device}. */
  public static Tensor fromSegment(MemorySegment data, DType dtype, Device device, long... shape) {
    return fromArray(data, dtype, device, shape);
  }

  private static Tensor fromArray(MemorySegment data, DType dtype, Device device, long[] shape) {
    Native.require();
    long n = numel(shape);
    if (data.byteSize() != n * dtype.byteSize())
      throw new IllegalArgumentException("data has " + data.byteSize() + " bytes, shape " + Arrays.toString(shape) + " of "
          + dtype + " needs " + n * dtype.byteSize());
    try (Arena arena = Arena.ofConfined()) {
      // Heap arrays cannot be handed to native code; one copy into native memory (libtorch copies once more).
      MemorySegment src = data.isNative() ? data : arena.allocate(data.byteSize(), 8).copyFrom(data);
      Native.Scratch s = Native.scratch();
      long shapeAddr = s.longs(shape);
      Native.check((long) Native.FROM_DATA.invokeExact(src.address(), shapeAddr, (long) shape.length, dtype.code,
          device.code(), s.outAddr(0)));
      return adopt(s);
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  public static Tensor zeros(DType dtype, Device device, long... shape) {
    return full(0, dtype, device, shape);
  }

  public static Tensor ones(DType dtype, Device device, long... shape) {
    return full(1, dtype, device, shape);
  }

  public static Tensor full(double value, DType dtype, Device device, long... shape) {
    Native.require();
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.FULL.invokeExact(s.longs(shape), (long) shape.length, value, dtype.code, device.code(),
          s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  public static Tensor arange(double start, double end, double step, DType dtype, Device device) {
    Native.require();
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.ARANGE.invokeExact(start, end, step, dtype.code, device.code(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  /** Standard normal samples from {@code gen} (which fixes the device). */
  public static Tensor randn(Generator gen, DType dtype, long... shape) {
    return random(gen, 0, dtype, shape);
  }

  /** Uniform [0, 1) samples from {@code gen}. */
  public static Tensor rand(Generator gen, DType dtype, long... shape) {
    return random(gen, 1, dtype, shape);
  }

  private static Tensor random(Generator gen, int kind, DType dtype, long[] shape) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.RANDOM.invokeExact(s.longs(shape), (long) shape.length, gen.handle(), kind, dtype.code,
          gen.device().code(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------------------- metadata

  private Native.Scratch info() {
    Native.Scratch s = Native.scratch();
    try {
      // out[0] = ndim, out[1] = dtype|device (two int32), out[2] = requires_grad; dims go to the long buffer.
      s.ensure(16);
      Native.check((long) Native.INFO.invokeExact(handle(), s.outAddr(0), s.longsAddr, s.outAddr(1), s.outAddr(1) + 4,
          s.outAddr(2)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return s;
  }

  public long[] shape() {
    Native.Scratch s = info();
    return s.longs.asSlice(0, 8 * s.out(0)).toArray(JAVA_LONG);
  }

  public long size(int dim) {
    long[] sh = shape();
    return sh[dim < 0 ? sh.length + dim : dim];
  }

  public int dim() {
    return (int) info().out(0);
  }

  public long numel() {
    return numel(shape());
  }

  public DType dtype() {
    return DType.of((int) info().out(1));
  }

  public Device device() {
    return new Device((int) (info().out(1) >> 32));
  }

  public boolean requiresGrad() {
    return (info().out(2) & 0xffffffffL) != 0;
  }

  @Override
  public String toString() {
    if (handle == 0) return "Tensor[freed]";
    return "Tensor" + Arrays.toString(shape()) + " " + dtype() + " " + device();
  }

  // ---------------------------------------------------------------------------------------------------- read back

  /** The elements as floats (converted from the tensor's dtype, copied to the CPU). */
  public float[] toFloatArray() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor f = dtype() == DType.F32 ? this : to(DType.F32);
      float[] out = new float[Math.toIntExact(f.numel())];
      copyOut(f, MemorySegment.ofArray(out));
      return out;
    }
  }

  public long[] toLongArray() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor f = dtype() == DType.I64 ? this : to(DType.I64);
      long[] out = new long[Math.toIntExact(f.numel())];
      copyOut(f, MemorySegment.ofArray(out));
      return out;
    }
  }

  public boolean[] toBooleanArray() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor f = dtype() == DType.BOOL ? this : to(DType.BOOL);
      byte[] b = new byte[Math.toIntExact(f.numel())];
      copyOut(f, MemorySegment.ofArray(b));
      boolean[] out = new boolean[b.length];
      for (int i = 0; i < b.length; i++) out[i] = b[i] != 0;
      return out;
    }
  }

  /** Copies the elements (row-major, this dtype) into {@code dst}, which must be exactly as large. */
  public void copyTo(MemorySegment dst) {
    copyOut(this, dst);
  }

  private static void copyOut(Tensor t, MemorySegment dst) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = dst.isNative() ? dst : arena.allocate(dst.byteSize(), 8);
      Native.check((long) Native.TO_DATA.invokeExact(t.handle(), buf.address(), buf.byteSize()));
      if (buf != dst) dst.copyFrom(buf);
    } catch (Throwable e) {
      throw Native.rethrow(e);
    }
  }

  /** The single value of a one-element tensor. */
  public double item() {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.ITEM.invokeExact(handle(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return Double.longBitsToDouble(s.out(0));
  }

  /** Address of the first element (device memory for CUDA tensors): for our own kernels. Valid while alive. */
  public long dataPointer() {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.DATA_PTR.invokeExact(handle(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return s.out(0);
  }

  // ---------------------------------------------------------------------------------------------------- op plumbing

  static Tensor unary(int op, Tensor a) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.UNARY.invokeExact(op, a.handle(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  static Tensor binary(int op, Tensor a, Tensor b) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.BINARY.invokeExact(op, a.handle(), b.handle(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  static Tensor scalar(int op, Tensor a, double v) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.SCALAR.invokeExact(op, a.handle(), v, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  // Op codes: keep in sync with sr4g_torch.cpp.
  public Tensor add(Tensor o) { return binary(0, this, o); }
  public Tensor sub(Tensor o) { return binary(1, this, o); }
  public Tensor mul(Tensor o) { return binary(2, this, o); }
  public Tensor div(Tensor o) { return binary(3, this, o); }
  public Tensor matmul(Tensor o) { return binary(4, this, o); }
  public Tensor bmm(Tensor o) { return binary(5, this, o); }
  public Tensor pow(Tensor o) { return binary(7, this, o); }

  public Tensor add(double v) { return scalar(0, this, v); }
  public Tensor sub(double v) { return scalar(1, this, v); }
  public Tensor mul(double v) { return scalar(2, this, v); }
  public Tensor div(double v) { return scalar(3, this, v); }
  public Tensor pow(double v) { return scalar(4, this, v); }
  /** {@code v - this}. */
  public Tensor rsub(double v) { return scalar(5, this, v); }

  public Tensor neg() { return unary(0, this); }
  public Tensor exp() { return unary(1, this); }
  public Tensor sqrt() { return unary(2, this); }
  public Tensor sin() { return unary(3, this); }
  public Tensor cos() { return unary(4, this); }
  public Tensor silu() { return unary(5, this); }
  /** Exact (erf) GELU. */
  public Tensor gelu() { return unary(6, this); }
  /** GELU with the tanh approximation (CLIP's quick variants aside, what "gelu_pytorch_tanh" means). */
  public Tensor geluTanh() { return unary(7, this); }
  public Tensor sigmoid() { return unary(8, this); }
  public Tensor contiguous() { return unary(9, this); }
  public Tensor relu() { return unary(10, this); }
  public Tensor tanh() { return unary(11, this); }
  public Tensor log() { return unary(12, this); }
  public Tensor abs() { return unary(13, this); }
  /** Sum of all elements (0-dim). */
  public Tensor sum() { return unary(14, this); }
  /** Mean of all elements (0-dim). */
  public Tensor mean() { return unary(15, this); }
  /** Same data, cut from the autograd graph. */
  public Tensor detach() { return unary(16, this); }
  public Tensor copy() { return unary(17, this); }
  public Tensor rsqrt() { return unary(18, this); }
  public Tensor square() { return unary(19, this); }

  public Tensor sum(boolean keepDim, long... dims) { return reduce(0, dims, keepDim); }
  public Tensor mean(boolean keepDim, long... dims) { return reduce(1, dims, keepDim); }

  private Tensor reduce(int op, long[] dims, boolean keepDim) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.REDUCE.invokeExact(op, handle(), s.longs(dims), (long) dims.length, keepDim ? 1 : 0,
          s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  public Tensor clamp(double lo, double hi) { return clamp(lo, hi, true, true); }
  public Tensor clampMin(double lo) { return clamp(lo, 0, true, false); }
  public Tensor clampMax(double hi) { return clamp(0, hi, false, true); }

  private Tensor clamp(double lo, double hi, boolean hasLo, boolean hasHi) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.CLAMP.invokeExact(handle(), lo, hi, hasLo ? 1 : 0, hasHi ? 1 : 0, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  public Tensor softmax(long dim) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.SOFTMAX.invokeExact(handle(), dim, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  /** {@code cond ? a : b}, elementwise with broadcasting. */
  public static Tensor where(Tensor cond, Tensor a, Tensor b) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.WHERE.invokeExact(cond.handle(), a.handle(), b.handle(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  // ---------------------------------------------------------------------------------------------------- shape

  public Tensor reshape(long... shape) { return reshape(shape, false); }
  /** Like reshape but never copies: fails (TorchException) when the strides do not allow a view. */
  public Tensor view(long... shape) { return reshape(shape, true); }

  private Tensor reshape(long[] shape, boolean view) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.RESHAPE.invokeExact(handle(), s.longs(shape), (long) shape.length, view ? 1 : 0,
          s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  public Tensor permute(long... dims) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.PERMUTE.invokeExact(handle(), s.longs(dims), (long) dims.length, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  public Tensor transpose(long d0, long d1) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.TRANSPOSE.invokeExact(handle(), d0, d1, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  public static Tensor cat(List<Tensor> ts, long dim) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.CAT.invokeExact(s.handles(ts.toArray(Tensor[]::new)), (long) ts.size(), dim,
          s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  /** {@code chunks} nearly equal pieces along {@code dim} (torch.chunk). */
  public List<Tensor> chunk(long chunks, long dim) { return split(chunks, dim, true); }
  /** Pieces of {@code size} along {@code dim}, the last possibly smaller (torch.split). */
  public List<Tensor> split(long size, long dim) { return split(size, dim, false); }

  private List<Tensor> split(long size, long dim, boolean chunk) {
    Native.Scratch s = Native.scratch();
    long[] handles;
    try (Arena arena = Arena.ofConfined()) {
      long max = Math.max(1, chunk ? size : size((int) dim) / Math.max(1, size) + 1);
      MemorySegment outs = arena.allocate(JAVA_LONG, max);
      Native.check((long) Native.SPLIT.invokeExact(handle(), size, dim, chunk ? 1 : 0, outs.address(), max,
          s.outAddr(0)));
      handles = outs.asSlice(0, 8 * s.out(0)).toArray(JAVA_LONG);
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    List<Tensor> r = new ArrayList<>(handles.length);
    for (long h : handles) r.add(adopt(h));
    return r;
  }

  /** Elements {@code start, start+step, ... < end} along {@code dim} (a view). */
  public Tensor slice(long dim, long start, long end, long step) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.SLICE.invokeExact(handle(), dim, start, end, step, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  public Tensor indexSelect(long dim, Tensor index) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.INDEX_SELECT.invokeExact(handle(), dim, index.handle(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  public Tensor to(DType dtype) { return to(dtype.code, -2); }
  public Tensor to(Device device) { return to(-1, device.code()); }
  public Tensor to(DType dtype, Device device) { return to(dtype.code, device.code()); }

  private Tensor to(int dtype, int device) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.TO.invokeExact(handle(), dtype, device, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  /** NHWC memory layout (same logical shape): the faster layout for cuDNN convolutions in bf16/f16. */
  public Tensor channelsLast() {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.CHANNELS_LAST.invokeExact(handle(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return adopt(s);
  }

  public boolean isChannelsLast() {
    Native.Scratch s = Native.scratch();
    try {
      s.out.set(JAVA_LONG, 0, 0);
      Native.check((long) Native.IS_CHANNELS_LAST.invokeExact(handle(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return (s.out(0) & 0xffffffffL) != 0;
  }

  /** Copies {@code src}'s values into this tensor in place (broadcasting, converting dtype and device). */
  public void copyFrom(Tensor src) {
    try {
      Native.check((long) Native.COPY_.invokeExact(handle(), src.handle()));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  // ---------------------------------------------------------------------------------------------------- autograd

  /** Marks this (leaf) tensor as one whose gradient autograd accumulates. Returns this. */
  public Tensor requiresGrad(boolean on) {
    try {
      Native.check((long) Native.SET_REQUIRES_GRAD.invokeExact(handle(), on ? 1 : 0));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return this;
  }

  /** Back-propagates from this scalar into the {@code .grad} of every leaf that requires it. */
  public void backward() {
    try {
      Native.check((long) Native.BACKWARD.invokeExact(handle()));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  /** A new handle on the accumulated gradient, or null when there is none. */
  public Tensor grad() {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.GRAD.invokeExact(handle(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    long h = s.out(0);
    return h == 0 ? null : adopt(h);
  }


}

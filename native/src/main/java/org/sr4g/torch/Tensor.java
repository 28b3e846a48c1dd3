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

  /**
   * Hands the native handle to C, which now owns it (a checkpoint replay's input gradients): this object leaves its
   * scope and becomes unusable, nothing is freed.
   */
  long release() {
    long h = handle();
    if (owner != null) owner.remove(this);
    handle = 0;
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
    Native.call(c -> (long) Native.FREE.invokeExact(h));
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
      return Native.tensor(s -> (long) Native.FROM_DATA.invokeExact(src.address(), s.longs(shape),
          (long) shape.length, dtype.code, device.code(), s.outAddr(0)));
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
    return Native.tensor(s -> (long) Native.FULL.invokeExact(s.longs(shape), (long) shape.length, value, dtype.code,
        device.code(), s.outAddr(0)));
  }

  public static Tensor arange(double start, double end, double step, DType dtype, Device device) {
    Native.require();
    return Native.tensor(s -> (long) Native.ARANGE.invokeExact(start, end, step, dtype.code, device.code(),
        s.outAddr(0)));
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
    return Native.tensor(s -> (long) Native.RANDOM.invokeExact(s.longs(shape), (long) shape.length, gen.handle(),
        kind, dtype.code, gen.device().code(), s.outAddr(0)));
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
    // out[0] = ndim, out[1] = dtype|device (two int32), out[2] = requires_grad; dims go to the long buffer.
    Native.scratch().ensure(16);
    return Native.call(s -> (long) Native.INFO.invokeExact(handle(), s.outAddr(0), s.longsAddr, s.outAddr(1),
        s.outAddr(1) + 4, s.outAddr(2)));
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
      Native.call(s -> (long) Native.TO_DATA.invokeExact(t.handle(), buf.address(), buf.byteSize()));
      if (buf != dst) dst.copyFrom(buf);
    }
  }

  /** The single value of a one-element tensor. */
  public double item() {
    return Double.longBitsToDouble(Native.call(s -> (long) Native.ITEM.invokeExact(handle(), s.outAddr(0))).out(0));
  }

  /** Address of the first element (device memory for CUDA tensors): for our own kernels. Valid while alive. */
  public long dataPointer() {
    return Native.call(s -> (long) Native.DATA_PTR.invokeExact(handle(), s.outAddr(0))).out(0);
  }

  // ---------------------------------------------------------------------------------------------------- op plumbing

  static Tensor unary(Op.Unary op, Tensor a) {
    return Native.tensor(s -> (long) Native.UNARY.invokeExact(op.ordinal(), a.handle(), s.outAddr(0)));
  }

  static Tensor binary(Op.Binary op, Tensor a, Tensor b) {
    return Native.tensor(s -> (long) Native.BINARY.invokeExact(op.ordinal(), a.handle(), b.handle(), s.outAddr(0)));
  }

  static Tensor scalar(Op.Scalar op, Tensor a, double v) {
    return Native.tensor(s -> (long) Native.SCALAR.invokeExact(op.ordinal(), a.handle(), v, s.outAddr(0)));
  }

  public Tensor add(Tensor o) { return binary(Op.Binary.ADD, this, o); }
  public Tensor sub(Tensor o) { return binary(Op.Binary.SUB, this, o); }
  public Tensor mul(Tensor o) { return binary(Op.Binary.MUL, this, o); }
  public Tensor div(Tensor o) { return binary(Op.Binary.DIV, this, o); }
  public Tensor matmul(Tensor o) { return binary(Op.Binary.MATMUL, this, o); }
  public Tensor bmm(Tensor o) { return binary(Op.Binary.BMM, this, o); }
  public Tensor pow(Tensor o) { return binary(Op.Binary.POW, this, o); }

  public Tensor add(double v) { return scalar(Op.Scalar.ADD, this, v); }
  public Tensor sub(double v) { return scalar(Op.Scalar.SUB, this, v); }
  public Tensor mul(double v) { return scalar(Op.Scalar.MUL, this, v); }
  public Tensor div(double v) { return scalar(Op.Scalar.DIV, this, v); }
  public Tensor pow(double v) { return scalar(Op.Scalar.POW, this, v); }
  /** {@code v - this}. */
  public Tensor rsub(double v) { return scalar(Op.Scalar.RSUB, this, v); }

  public Tensor neg() { return unary(Op.Unary.NEG, this); }
  public Tensor exp() { return unary(Op.Unary.EXP, this); }
  public Tensor sqrt() { return unary(Op.Unary.SQRT, this); }
  public Tensor sin() { return unary(Op.Unary.SIN, this); }
  public Tensor cos() { return unary(Op.Unary.COS, this); }
  public Tensor silu() { return unary(Op.Unary.SILU, this); }
  /** Exact (erf) GELU. */
  public Tensor gelu() { return unary(Op.Unary.GELU, this); }
  /** GELU with the tanh approximation (CLIP's quick variants aside, what "gelu_pytorch_tanh" means). */
  public Tensor geluTanh() { return unary(Op.Unary.GELU_TANH, this); }
  public Tensor sigmoid() { return unary(Op.Unary.SIGMOID, this); }
  public Tensor contiguous() { return unary(Op.Unary.CONTIGUOUS, this); }
  public Tensor relu() { return unary(Op.Unary.RELU, this); }
  public Tensor tanh() { return unary(Op.Unary.TANH, this); }
  public Tensor log() { return unary(Op.Unary.LOG, this); }
  public Tensor abs() { return unary(Op.Unary.ABS, this); }
  /** Sum of all elements (0-dim). */
  public Tensor sum() { return unary(Op.Unary.SUM, this); }
  /** Mean of all elements (0-dim). */
  public Tensor mean() { return unary(Op.Unary.MEAN, this); }
  /** Same data, cut from the autograd graph. */
  public Tensor detach() { return unary(Op.Unary.DETACH, this); }
  public Tensor copy() { return unary(Op.Unary.CLONE, this); }
  public Tensor rsqrt() { return unary(Op.Unary.RSQRT, this); }
  public Tensor square() { return unary(Op.Unary.SQUARE, this); }

  public Tensor sum(boolean keepDim, long... dims) { return reduce(Op.Reduce.SUM, dims, keepDim); }
  public Tensor mean(boolean keepDim, long... dims) { return reduce(Op.Reduce.MEAN, dims, keepDim); }

  private Tensor reduce(Op.Reduce op, long[] dims, boolean keepDim) {
    return Native.tensor(s -> (long) Native.REDUCE.invokeExact(op.ordinal(), handle(), s.longs(dims),
        (long) dims.length, keepDim ? 1 : 0, s.outAddr(0)));
  }

  public Tensor clamp(double lo, double hi) { return clamp(lo, hi, true, true); }
  public Tensor clampMin(double lo) { return clamp(lo, 0, true, false); }
  public Tensor clampMax(double hi) { return clamp(0, hi, false, true); }

  private Tensor clamp(double lo, double hi, boolean hasLo, boolean hasHi) {
    return Native.tensor(s -> (long) Native.CLAMP.invokeExact(handle(), lo, hi, hasLo ? 1 : 0, hasHi ? 1 : 0,
        s.outAddr(0)));
  }

  public Tensor softmax(long dim) {
    return Native.tensor(s -> (long) Native.SOFTMAX.invokeExact(handle(), dim, s.outAddr(0)));
  }

  /** {@code cond ? a : b}, elementwise with broadcasting. */
  public static Tensor where(Tensor cond, Tensor a, Tensor b) {
    return Native.tensor(s -> (long) Native.WHERE.invokeExact(cond.handle(), a.handle(), b.handle(), s.outAddr(0)));
  }

  // ---------------------------------------------------------------------------------------------------- shape

  public Tensor reshape(long... shape) { return reshape(shape, false); }
  /** Like reshape but never copies: fails (TorchException) when the strides do not allow a view. */
  public Tensor view(long... shape) { return reshape(shape, true); }

  private Tensor reshape(long[] shape, boolean view) {
    return Native.tensor(s -> (long) Native.RESHAPE.invokeExact(handle(), s.longs(shape), (long) shape.length,
        view ? 1 : 0, s.outAddr(0)));
  }

  public Tensor permute(long... dims) {
    return Native.tensor(s -> (long) Native.PERMUTE.invokeExact(handle(), s.longs(dims), (long) dims.length,
        s.outAddr(0)));
  }

  public Tensor transpose(long d0, long d1) {
    return Native.tensor(s -> (long) Native.TRANSPOSE.invokeExact(handle(), d0, d1, s.outAddr(0)));
  }

  public static Tensor cat(List<Tensor> ts, long dim) {
    return Native.tensor(s -> (long) Native.CAT.invokeExact(s.handles(ts.toArray(Tensor[]::new)), (long) ts.size(),
        dim, s.outAddr(0)));
  }

  /** {@code chunks} nearly equal pieces along {@code dim} (torch.chunk). */
  public List<Tensor> chunk(long chunks, long dim) { return split(chunks, dim, true); }
  /** Pieces of {@code size} along {@code dim}, the last possibly smaller (torch.split). */
  public List<Tensor> split(long size, long dim) { return split(size, dim, false); }

  private List<Tensor> split(long size, long dim, boolean chunk) {
    long[] handles;
    try (Arena arena = Arena.ofConfined()) {
      long max = Math.max(1, chunk ? size : size((int) dim) / Math.max(1, size) + 1);
      MemorySegment outs = arena.allocate(JAVA_LONG, max);
      long n = Native.call(s -> (long) Native.SPLIT.invokeExact(handle(), size, dim, chunk ? 1 : 0, outs.address(),
          max, s.outAddr(0))).out(0);
      handles = outs.asSlice(0, 8 * n).toArray(JAVA_LONG);
    }
    List<Tensor> r = new ArrayList<>(handles.length);
    for (long h : handles) r.add(adopt(h));
    return r;
  }

  /** Elements {@code start, start+step, ... < end} along {@code dim} (a view). */
  public Tensor slice(long dim, long start, long end, long step) {
    return Native.tensor(s -> (long) Native.SLICE.invokeExact(handle(), dim, start, end, step, s.outAddr(0)));
  }

  public Tensor indexSelect(long dim, Tensor index) {
    return Native.tensor(s -> (long) Native.INDEX_SELECT.invokeExact(handle(), dim, index.handle(), s.outAddr(0)));
  }

  public Tensor to(DType dtype) { return to(dtype.code, Native.DEVICE_KEEP); }
  public Tensor to(Device device) { return to(Native.DTYPE_KEEP, device.code()); }
  public Tensor to(DType dtype, Device device) { return to(dtype.code, device.code()); }

  private Tensor to(int dtype, int device) {
    return Native.tensor(s -> (long) Native.TO.invokeExact(handle(), dtype, device, s.outAddr(0)));
  }

  /** NHWC memory layout (same logical shape): the faster layout for cuDNN convolutions in bf16/f16. */
  public Tensor channelsLast() {
    return Native.tensor(s -> (long) Native.CHANNELS_LAST.invokeExact(handle(), s.outAddr(0)));
  }

  public boolean isChannelsLast() {
    return Native.flag(s -> (long) Native.IS_CHANNELS_LAST.invokeExact(handle(), s.outAddr(0)));
  }

  /** Copies {@code src}'s values into this tensor in place (broadcasting, converting dtype and device). */
  public void copyFrom(Tensor src) {
    Native.call(s -> (long) Native.COPY_.invokeExact(handle(), src.handle()));
  }

  // ---------------------------------------------------------------------------------------------------- autograd

  /** Marks this (leaf) tensor as one whose gradient autograd accumulates. Returns this. */
  public Tensor requiresGrad(boolean on) {
    Native.call(s -> (long) Native.SET_REQUIRES_GRAD.invokeExact(handle(), on ? 1 : 0));
    return this;
  }

  /** Back-propagates from this scalar into the {@code .grad} of every leaf that requires it. */
  public void backward() {
    Native.call(s -> (long) Native.BACKWARD.invokeExact(handle()));
  }

  /** A new handle on the accumulated gradient, or null when there is none. */
  public Tensor grad() {
    long h = Native.call(s -> (long) Native.GRAD.invokeExact(handle(), s.outAddr(0))).out(0);
    return h == 0 ? null : adopt(h);
  }


}

package org.sr4g.torch;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Gradient checkpointing for a function of tensors written in Java: {@code torch.utils.checkpoint}'s reentrant
 * variant. {@link #run} computes the segment without a graph (its intermediates are freed at once) and returns its
 * outputs attached to one autograd node ({@code sr4g_checkpoint}) that keeps only the inputs. When a backward — a plain
 * {@link Tensor#backward()}, {@link Autograd#backward}, from any thread — reaches that node, libtorch calls back into
 * Java (an FFM upcall, {@link #replay}): the segment runs again from leaves standing for its inputs, with grad enabled
 * and under the autocast it first ran with, the output gradients are back-propagated through it (a nested backward:
 * the parameters inside accumulate their gradients as usual, DDP's hooks included), and the inputs' gradients go back
 * to the outer backward. So callers write {@code loss.backward()} whether or not their model checkpoints.
 *
 * <p>Memory: the segment's inputs live until the backward passes the node (or its graph is dropped), one segment's
 * graph at a time during the backward; the cost is one more forward of the segment. Segments must be deterministic
 * functions of their inputs and parameters (no dropout or noise inside). When the node goes (used, or its graph
 * freed unused) the C side tells Java to forget the segment ({@link #pendingSegments()} counts the rest).
 */
public final class Checkpoint {
  private Checkpoint() {}

  /** What a recompute needs: the function, and the autocast dtype of each device type when it ran (null: off). */
  private record Segment(Function<List<Tensor>, List<Tensor>> block, DType cpuAutocast, DType cudaAutocast) {}

  private static final Map<Long, Segment> SEGMENTS = new ConcurrentHashMap<>();
  private static final AtomicLong IDS = new AtomicLong();

  /**
   * {@code block.apply(inputs)}, checkpointed when grad mode is on (otherwise a plain call). {@code block} must give
   * the same outputs, in the same order, when called again; its outputs must be floating point.
   */
  public static List<Tensor> run(Function<List<Tensor>, List<Tensor>> block, List<Tensor> inputs) {
    if (!Autograd.isGradEnabled()) return block.apply(inputs);
    Callbacks.ensureRegistered();
    Segment segment = new Segment(block, autocastDtype(Device.CPU), autocastDtype(Device.cuda(0)));
    long id = IDS.incrementAndGet();
    try (TensorScope scope = TensorScope.open(); Arena arena = Arena.ofConfined()) {
      List<Tensor> outputs;
      try (ModeGuard ng = Autograd.noGrad()) {
        outputs = block.apply(inputs);
      }
      int nIn = inputs.size(), nOut = outputs.size();
      MemorySegment in = handles(arena, inputs), out = handles(arena, outputs), attached = arena.allocate(JAVA_LONG, nOut);
      SEGMENTS.put(id, segment);
      try {
        Native.call(c -> (long) Native.CHECKPOINT.invokeExact(in.address(), (long) nIn, out.address(), (long) nOut, id,
            attached.address()));
      } catch (RuntimeException e) {
        SEGMENTS.remove(id); // no node was made: nothing will release it
        throw e;
      }
      List<Tensor> result = new ArrayList<>(nOut);
      for (int i = 0; i < nOut; i++) result.add(scope.keep(Tensor.adopt(attached.getAtIndex(JAVA_LONG, i))));
      return result;
    }
  }

  /** {@link #run} for a block of one output. */
  public static Tensor run1(Function<List<Tensor>, Tensor> block, Tensor... inputs) {
    return run(in -> List.of(block.apply(in)), List.of(inputs)).getFirst();
  }

  /** Checkpointed segments whose autograd node still exists (the leak tests' meter). */
  public static int pendingSegments() {
    return SEGMENTS.size();
  }

  private static MemorySegment handles(Arena arena, List<Tensor> ts) {
    MemorySegment m = arena.allocate(JAVA_LONG, Math.max(1, ts.size()));
    for (int i = 0; i < ts.size(); i++) m.setAtIndex(JAVA_LONG, i, ts.get(i).handle());
    return m;
  }

  private static DType autocastDtype(Device type) {
    return Torch.autocastEnabled(type) ? Torch.autocastDtype(type) : null;
  }

  /**
   * The node's backward (upcall; see {@code sr4g_replay_fn}): recomputes segment {@code id} from leaves for its inputs,
   * back-propagates the output gradients through it and hands the inputs' gradients to C. Never throws: an upcall
   * must not, so a failure becomes a message for the C side, which fails the backward with it.
   */
  static int replay(long id, long inputs, long nIn, long grads, long nOut, long gradInputs, long err, long errLen) {
    try {
      Segment s = SEGMENTS.get(id);
      // Adopted first, so the scope frees them whatever happens next.
      try (TensorScope scope = TensorScope.open()) {
        List<Tensor> leaves = adoptAll(inputs, nIn), outGrads = adoptAll(grads, nOut);
        if (s == null) throw new IllegalStateException("checkpointed segment " + id + " is unknown (released)");
        boolean previous = Autograd.setGradEnabled(true);
        try {
          backPropagate(s, leaves, outGrads);
        } finally {
          Autograd.setGradEnabled(previous);
        }
        MemorySegment gin = MemorySegment.ofAddress(gradInputs).reinterpret(8 * nIn);
        for (int i = 0; i < nIn; i++) {
          Tensor g = leaves.get(i).grad();
          if (g != null) gin.setAtIndex(JAVA_LONG, i, g.release());
        }
      }
      return 0;
    } catch (Throwable t) {
      String m = t instanceof TorchException ? t.getMessage() : t.toString();
      byte[] b = ("checkpointed segment: " + m).getBytes(StandardCharsets.UTF_8);
      MemorySegment e = MemorySegment.ofAddress(err).reinterpret(errLen);
      int n = (int) Math.min(b.length, errLen - 1);
      MemorySegment.copy(b, 0, e, JAVA_BYTE, 0, n);
      e.set(JAVA_BYTE, n, (byte) 0);
      return 1;
    }
  }

  /** The segment's forward again, under the autocast it first ran with; its backward then runs outside, as torch's. */
  private static void backPropagate(Segment s, List<Tensor> leaves, List<Tensor> outGrads) {
    List<Tensor> recomputed;
    try (ModeGuard cpu = s.cpuAutocast() != null ? Torch.autocast(Device.CPU, s.cpuAutocast()) : null;
        ModeGuard cuda = s.cudaAutocast() != null ? Torch.autocast(Device.cuda(0), s.cudaAutocast()) : null) {
      recomputed = s.block().apply(leaves);
    }
    List<Tensor> outs = new ArrayList<>(), gs = new ArrayList<>();
    for (int i = 0; i < outGrads.size(); i++) {
      Tensor g = outGrads.get(i), r = recomputed.get(i);
      if (g == null || !r.requiresGrad()) continue; // unused output, or one that depends on nothing trainable
      outs.add(r);
      gs.add(g);
    }
    if (!outs.isEmpty()) Autograd.backward(outs, gs);
  }

  private static List<Tensor> adoptAll(long array, long n) {
    MemorySegment m = MemorySegment.ofAddress(array).reinterpret(8 * n);
    List<Tensor> r = new ArrayList<>((int) n);
    for (int i = 0; i < n; i++) {
      long h = m.getAtIndex(JAVA_LONG, i);
      r.add(h == 0 ? null : Tensor.adopt(h));
    }
    return r;
  }

  /** The node was destroyed (upcall): forget the segment. */
  static void release(long id) {
    SEGMENTS.remove(id);
  }

  /** The two upcall stubs, made and handed to the C layer once per process. */
  private static final class Callbacks {
    static {
      try {
        Linker linker = Linker.nativeLinker();
        var lookup = MethodHandles.lookup();
        MemorySegment replay = linker.upcallStub(lookup.findStatic(Checkpoint.class, "replay",
                MethodType.methodType(int.class, long.class, long.class, long.class, long.class, long.class, long.class,
                    long.class, long.class)),
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_LONG), Arena.global());
        MemorySegment release = linker.upcallStub(lookup.findStatic(Checkpoint.class, "release",
            MethodType.methodType(void.class, long.class)), FunctionDescriptor.ofVoid(JAVA_LONG), Arena.global());
        Native.call(c -> (long) Native.CHECKPOINT_CALLBACKS.invokeExact(replay.address(), release.address()));
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    static void ensureRegistered() {}
  }
}

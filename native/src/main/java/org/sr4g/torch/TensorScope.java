package org.sr4g.torch;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Owns every tensor created on this thread while it is the innermost open scope, and frees them all with one native
 * call when closed:
 *
 * <pre>{@code
 * try (TensorScope scope = TensorScope.open()) {
 *   Tensor h = x.matmul(w).add(b).silu();
 *   return scope.keep(h.mean());   // survives: now owned by the enclosing scope (or by the caller if none)
 * }
 * }</pre>
 *
 * Scopes nest and are per thread (a thread-local stack); they must be closed on their thread, innermost first, which
 * try-with-resources guarantees.
 */
public final class TensorScope implements AutoCloseable {
  private final TensorScope parent;
  private final Thread thread;
  private Tensor[] owned = new Tensor[16];
  private int size;
  private boolean closed;

  private TensorScope(TensorScope parent) {
    this.parent = parent;
    this.thread = Thread.currentThread();
  }

  public static TensorScope open() {
    // The scope stack lives in the thread's Native.Scratch: one thread-local lookup per op serves both.
    Native.Scratch scratch = Native.scratch();
    TensorScope s = new TensorScope(scratch.scope);
    scratch.scope = s;
    return s;
  }

  /** The innermost open scope of this thread, or null. */
  static TensorScope current() {
    return Native.scratch().scope;
  }

  void add(Tensor t) {
    if (size == owned.length) owned = Arrays.copyOf(owned, size * 2);
    owned[size++] = t;
    t.owner = this;
  }

  void remove(Tensor t) {
    // The owned array is not synchronised: only the scope's thread may change it.
    if (Thread.currentThread() != thread)
      throw new IllegalStateException("a tensor owned by a TensorScope can only be closed or moved on that scope's thread");
    // Search from the end: the tensors handed on are usually the newest.
    for (int i = size - 1; i >= 0; i--) {
      if (owned[i] == t) {
        System.arraycopy(owned, i + 1, owned, i, size - i - 1);
        owned[--size] = null;
        t.owner = null;
        return;
      }
    }
    throw new IllegalStateException("tensor is not owned by this scope");
  }

  /** Hands {@code t} to the enclosing scope, or to the caller (who must close it) when this is the outermost. */
  public Tensor keep(Tensor t) {
    if (t.owner != this) throw new IllegalStateException("keep: the tensor does not belong to this scope");
    remove(t);
    if (parent != null) parent.add(t);
    return t;
  }

  /**
   * Runs {@code f} in a scope of its own and hands its result to the enclosing scope: every temporary of {@code f} is
   * freed as soon as it returns. Model blocks run their forward this way, so a step holds one block's temporaries at a
   * time instead of all of them until it ends (which fragments the heap around oneDNN's large per-call buffers and made
   * the first step of a run slow). Safe under autograd: the graph keeps its own references to what its backward needs.
   * A result {@code f} did not make (an input returned as it is) stays with its owner.
   */
  public static Tensor within(Supplier<Tensor> f) {
    try (TensorScope s = open()) {
      Tensor r = f.get();
      return r.owner == s ? s.keep(r) : r;
    }
  }

  /** Takes {@code t} out of whatever scope owns it: the caller owns it from now on (parameters, optimizer state). */
  public static Tensor detachFromScope(Tensor t) {
    if (t.owner != null) t.owner.remove(t);
    return t;
  }

  /** Number of tensors this scope currently owns. */
  public int size() {
    return size;
  }

  @Override
  public void close() {
    if (closed) return;
    if (Thread.currentThread() != thread) throw new IllegalStateException("a TensorScope must be closed on its own thread");
    Native.Scratch s = Native.scratch();
    if (s.scope != this) throw new IllegalStateException("TensorScopes must be closed innermost first");
    closed = true;
    s.scope = parent;
    if (size == 0) return;
    s.ensure(size);
    for (int i = 0; i < size; i++) {
      s.longs.setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i, owned[i].handle());
      owned[i].invalidate();
      owned[i].owner = null;
      owned[i] = null;
    }
    int n = size;
    size = 0;
    Native.call(c -> (long) Native.FREE_MANY.invokeExact(s.longsAddr, (long) n));
  }
}

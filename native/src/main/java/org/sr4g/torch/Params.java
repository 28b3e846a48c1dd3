package org.sr4g.torch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The named parameters of a module. Parameters live outside every {@link TensorScope}: {@link #add} takes the tensor
 * out of its scope, and this object frees them all on {@link #close()}.
 */
public final class Params implements AutoCloseable {
  private final Map<String, Tensor> byName = new LinkedHashMap<>();

  /** Takes ownership of {@code t}, marks it as requiring gradients and returns it. */
  public Tensor add(String name, Tensor t) {
    if (byName.containsKey(name)) throw new IllegalArgumentException("duplicate parameter " + name);
    TensorScope.detachFromScope(t);
    t.requiresGrad(true);
    byName.put(name, t);
    return t;
  }

  /**
   * Puts {@code t} in place of parameter {@code name} and frees the old tensor (e.g. a conv weight replaced by its
   * packed inference form); {@code t} keeps its requires_grad.
   */
  public void replace(String name, Tensor t) {
    Tensor old = byName.get(name);
    if (old == null) throw new IllegalArgumentException("no parameter " + name);
    if (old == t) return;
    TensorScope.detachFromScope(t);
    byName.put(name, t);
    old.close();
  }

  public Tensor get(String name) {
    Tensor t = byName.get(name);
    if (t == null) throw new IllegalArgumentException("no parameter " + name);
    return t;
  }

  public List<Tensor> list() {
    return Collections.unmodifiableList(new ArrayList<>(byName.values()));
  }

  public Map<String, Tensor> named() {
    return Collections.unmodifiableMap(byName);
  }

  /** The number of values over all parameters (what "N parameters" means for a model). */
  public long numel() {
    long n = 0;
    for (Tensor t : byName.values()) n += t.numel();
    return n;
  }

  /** Drops every gradient (set to none, torch's default), so the next backward starts fresh. */
  public void zeroGrad() {
    Autograd.zeroGrad(list());
  }

  @Override
  public void close() {
    for (Tensor t : byName.values()) t.close();
    byName.clear();
  }
}

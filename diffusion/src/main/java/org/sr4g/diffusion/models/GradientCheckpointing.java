package org.sr4g.diffusion.models;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/**
 * Gradient checkpointing by <b>segmented backward</b>: parts of the forward (in the UNet: every resnet, transformer,
 * down- and upsampler, as diffusers checkpoints its blocks' layers) keep no activations and are recomputed, one at a
 * time, during the backward. libtorch's C++ API has no {@code torch.utils.checkpoint}, so this is done from Java
 * around ordinary backward passes:
 *
 * <ol>
 *   <li><b>Forward.</b> {@link #run} runs a segment under no-grad — so it records no graph, and its intermediates are
 *       freed at once (an inner {@code TensorScope}) — and returns its outputs as fresh leaves (detached,
 *       {@code requires_grad}) that the rest of the forward uses; it records (segment, inputs, output leaves). An input
 *       that carries a graph (the {@code conv_in} output, the time embedding, anything computed by ordinary ops
 *       since the previous segment) is first {@link #enter entered}: replaced by a leaf, the pair remembered. The
 *       records form a timeline in forward order.</li>
 *   <li><b>Backward.</b> {@link #backward} first back-propagates the loss through what was recorded normally (the
 *       output head), which leaves gradients in the last segment's output leaves. Then it walks the timeline
 *       backwards. A segment is recomputed with grad enabled from its stored inputs and
 *       {@code backward(recomputed outputs, output-leaf gradients)} runs: the segment's parameter gradients accumulate,
 *       and so do the gradients of its input leaves. An entered tensor gets its leaf's gradient back-propagated into
 *       its own graph (time embedding MLP, {@code conv_in}). Every consumer of a leaf comes later in the forward, so
 *       its gradient is complete by the time the walk reaches its producer.</li>
 * </ol>
 *
 * Memory: only segment boundaries live from forward to backward, plus one segment's graph at a time during the
 * backward; the cost is one more forward of every segment. The gradients equal those of a plain backward up to the
 * summation order of gradients that meet at a shared tensor (tested: {@code GradientCheckpointingTest}). Segments must
 * be deterministic functions of their inputs and parameters (the UNet has no dropout or noise inside). Ordinary ops
 * between segments should consume leaves, not entered tensors' graphs (two entered tensors sharing history are
 * back-propagated in one call only when entered one after the other). One instance records one or more forwards of
 * one thread and is consumed by one {@link #backward}.
 */
final class GradientCheckpointing {
  /** A block as a function of its inputs; must give the same outputs, in the same order, when called again. */
  interface Block extends Function<List<Tensor>, List<Tensor>> {}

  /** One step of the recorded forward, in forward order: a segment, or a graph tensor entered as a leaf. */
  private sealed interface Entry permits Segment, Entered {}

  /** {@code cpuAutocast}/{@code cudaAutocast}: the autocast dtype in force when the segment ran, null when off. */
  private record Segment(Block block, List<Tensor> inputs, List<Tensor> outputs, DType cpuAutocast, DType cudaAutocast)
      implements Entry {}

  private record Entered(Tensor graph, Tensor leaf) implements Entry {}

  private final List<Entry> timeline = new ArrayList<>();
  /** Graph tensors entered so far and their leaves (identity): a tensor entered twice gets the same leaf. */
  private final Map<Tensor, Tensor> leafOf = new IdentityHashMap<>();
  /** Every leaf made here: passing one to {@link #enter} or {@link #run} needs no new leaf. */
  private final Set<Tensor> leaves = Collections.newSetFromMap(new IdentityHashMap<>());

  /**
   * A leaf with {@code t}'s values and no history, for use inside segments; {@link #backward} feeds the gradient it
   * collects into {@code t}'s graph. A tensor that needs no gradient (frozen text-encoder output) is returned as is.
   */
  Tensor enter(Tensor t) {
    if (leaves.contains(t) || !t.requiresGrad()) return t;
    Tensor known = leafOf.get(t);
    if (known != null) return known;
    Tensor leaf = t.detach().requiresGrad(true);
    leafOf.put(t, leaf);
    leaves.add(leaf);
    timeline.add(new Entered(t, leaf));
    return leaf;
  }

  /**
   * Runs {@code block} without recording a graph; returns its outputs as leaves that require grad. Inputs that carry
   * a graph (made by ordinary ops since the previous segment) are {@link #enter entered} first.
   */
  List<Tensor> run(Block block, List<Tensor> inputs) {
    List<Tensor> in = new ArrayList<>(inputs.size());
    for (Tensor t : inputs) in.add(enter(t));
    List<Tensor> out = new ArrayList<>();
    try (TensorScope scope = TensorScope.open(); ModeGuard ng = Autograd.noGrad()) {
      // detach: a fresh leaf even where the block returns a view of an input; keep: survives the inner scope, which
      // frees every intermediate of the block now.
      for (Tensor o : block.apply(in)) out.add(scope.keep(o.detach()));
    }
    for (Tensor o : out) {
      o.requiresGrad(true);
      leaves.add(o);
    }
    // The recompute must see the forward's autocast (as torch.utils.checkpoint restores it): the backward runs outside
    // the trainer's autocast block, and a float32 recompute would back-propagate through a different function.
    timeline.add(new Segment(block, List.copyOf(in), List.copyOf(out), autocastDtype(Device.CPU),
        autocastDtype(Device.cuda(0))));
    return out;
  }

  private static DType autocastDtype(Device type) {
    return Torch.autocastEnabled(type) ? Torch.autocastDtype(type) : null;
  }

  /** {@link #run} for a block of one output. */
  Tensor run1(Function<List<Tensor>, Tensor> block, Tensor... inputs) {
    return run(in -> List.of(block.apply(in)), List.of(inputs)).getFirst();
  }

  /**
   * {@code block} applied to {@code inputs}: a recomputed segment ({@link #run1}) when {@code tape} is given, a plain
   * call when it is null (no checkpointing, or no grad), so a module writes its forward once for both.
   */
  static Tensor segment(GradientCheckpointing tape, Function<List<Tensor>, Tensor> block, Tensor... inputs) {
    return tape == null ? block.apply(java.util.Arrays.asList(inputs)) : tape.run1(block, inputs);
  }

  boolean isEmpty() {
    return timeline.isEmpty();
  }

  /** True when the tensors recorded here were freed (the forward's scope closed without a backward). */
  boolean isStale() {
    for (Entry e : timeline)
      if (e instanceof Segment s) return s.outputs().getFirst().isFreed();
      else if (e instanceof Entered n) return n.leaf().isFreed();
    return false;
  }

  /**
   * {@code loss.backward()} through the recorded forward(s), recomputing each segment (see the class comment): the
   * timeline is walked backwards, so every consumer of a leaf has been back-propagated before the leaf's gradient is
   * passed on. Consecutive entered tensors are back-propagated in one call (they may share history, e.g. the time
   * embedding MLP's inputs).
   */
  void backward(Tensor loss) {
    boolean previous = Autograd.setGradEnabled(true);
    try {
      loss.backward();
      for (int k = timeline.size() - 1; k >= 0; ) {
        if (timeline.get(k) instanceof Segment s) {
          replay(s);
          k--;
          continue;
        }
        int end = k;
        while (k >= 0 && timeline.get(k) instanceof Entered) k--;
        List<Entered> group = new ArrayList<>();
        for (int i = k + 1; i <= end; i++) group.add((Entered) timeline.get(i));
        feed(group);
      }
    } finally {
      Autograd.setGradEnabled(previous);
      timeline.clear();
      leafOf.clear();
      leaves.clear();
    }
  }

  /** Recomputes one segment with grad enabled and back-propagates its output leaves' gradients through it. */
  private static void replay(Segment s) {
    try (TensorScope scope = TensorScope.open()) { // frees the recomputed graph's handles
      List<Tensor> outs = new ArrayList<>(), grads = new ArrayList<>();
      List<Tensor> recomputed = null;
      for (int i = 0; i < s.outputs().size(); i++) {
        Tensor g = s.outputs().get(i).grad();
        if (g == null) continue; // an output nothing downstream used
        if (recomputed == null) recomputed = recompute(s);
        Tensor r = recomputed.get(i);
        if (!r.requiresGrad()) continue; // depends on no parameter or input leaf
        outs.add(r);
        grads.add(g);
      }
      if (!outs.isEmpty()) Autograd.backward(outs, grads);
    }
    Autograd.zeroGrad(s.outputs()); // their gradients are spent: release the memory now
  }

  /** The segment's forward again, under the autocast it first ran with; its backward then runs outside, as torch's. */
  private static List<Tensor> recompute(Segment s) {
    try (ModeGuard cpu = s.cpuAutocast() != null ? Torch.autocast(Device.CPU, s.cpuAutocast()) : null;
        ModeGuard cuda = s.cudaAutocast() != null ? Torch.autocast(Device.cuda(0), s.cudaAutocast()) : null) {
      return s.block().apply(s.inputs());
    }
  }

  /** Back-propagates entered leaves' gradients into the graphs of the tensors they stand for. */
  private static void feed(List<Entered> group) {
    try (TensorScope scope = TensorScope.open()) {
      List<Tensor> outs = new ArrayList<>(), grads = new ArrayList<>();
      for (Entered e : group) {
        Tensor g = e.leaf().grad();
        if (g == null) continue;
        outs.add(e.graph());
        grads.add(g);
      }
      if (!outs.isEmpty()) Autograd.backward(outs, grads);
    }
    List<Tensor> spent = new ArrayList<>();
    for (Entered e : group) spent.add(e.leaf());
    Autograd.zeroGrad(spent);
  }
}

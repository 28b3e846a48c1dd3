package org.sr4g.diffusion.models;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * Gradient checkpointing by <b>segmented backward</b>: the UNet's blocks keep no activations during the forward and
 * are recomputed, one at a time, during the backward. libtorch's C++ API has no {@code torch.utils.checkpoint}, so
 * this is done from Java around ordinary backward passes:
 *
 * <ol>
 *   <li><b>Forward.</b> {@link #enter} turns each tensor that carries a graph into the first block (the
 *       {@code conv_in} output, the time embedding) into a fresh leaf with {@code requires_grad}; the pair is remembered.
 *       {@link #run} runs a block under no-grad — so it records no graph and its intermediates are freed at once (an
 *       inner {@code TensorScope}) — and returns its outputs as fresh leaves (detached, {@code requires_grad}) that the
 *       rest of the forward uses; it records (block, inputs, output leaves) as a segment. The skip connections of the
 *       down blocks are outputs of their segment like the block's result.</li>
 *   <li><b>Backward.</b> {@link #backward} first back-propagates the loss through what was recorded normally (the
 *       output head), which leaves gradients in the last segment's output leaves. Then, newest segment first, it
 *       recomputes the block with grad enabled from the stored inputs and calls
 *       {@code backward(recomputed outputs, output-leaf gradients)}: the block's parameter gradients accumulate, and so
 *       do the gradients of its input leaves (outputs of earlier segments, or entered tensors). Every consumer of a
 *       segment's outputs comes later in the forward, so by the time a segment is replayed its output gradients are
 *       complete. Finally the entered tensors' own graphs (time embedding MLP, {@code conv_in}) get their leaves'
 *       accumulated gradients in one {@code backward}.</li>
 * </ol>
 *
 * Memory: only block boundaries (outputs and skips) live from forward to backward, plus one block's graph at a time
 * during the backward; the cost is one extra forward of every block. The gradients equal those of a plain backward up
 * to the summation order of gradients that meet at a shared tensor (tested: {@code GradientCheckpointingTest}).
 * Blocks must be deterministic functions of their inputs and parameters (the UNet has no dropout or noise inside).
 * One instance records one or more forwards of one thread and is consumed by one {@link #backward}.
 */
final class GradientCheckpointing {
  /** A block as a function of its inputs; must give the same outputs, in the same order, when called again. */
  interface Block extends Function<List<Tensor>, List<Tensor>> {}

  private record Segment(Block block, List<Tensor> inputs, List<Tensor> outputs) {}

  private final List<Segment> segments = new ArrayList<>();
  /** Entered graph tensors and the leaves that stand for them. */
  private final List<Tensor> entered = new ArrayList<>(), enteredLeaves = new ArrayList<>();
  /** Every leaf made here: a segment input that requires grad but is not one of them is entered automatically. */
  private final Set<Tensor> leaves = Collections.newSetFromMap(new IdentityHashMap<>());

  /**
   * A leaf with {@code t}'s values and no history, for use inside segments; {@link #backward} feeds the gradient it
   * collects into {@code t}'s graph. A tensor that needs no gradient (frozen text-encoder output) is returned as is.
   */
  Tensor enter(Tensor t) {
    if (!t.requiresGrad() || leaves.contains(t)) return t;
    Tensor leaf = t.detach().requiresGrad(true);
    entered.add(t);
    enteredLeaves.add(leaf);
    leaves.add(leaf);
    return leaf;
  }

  /** Runs {@code block} without recording a graph; returns its outputs as leaves that require grad. */
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
    segments.add(new Segment(block, List.copyOf(in), List.copyOf(out)));
    return out;
  }

  boolean isEmpty() {
    return segments.isEmpty();
  }

  /** True when the tensors recorded here were freed (the forward's scope closed without a backward). */
  boolean isStale() {
    return !segments.isEmpty() && segments.getFirst().outputs().getFirst().isFreed();
  }

  /** {@code loss.backward()} through the recorded forward(s), recomputing each segment (see the class comment). */
  void backward(Tensor loss) {
    boolean previous = Autograd.setGradEnabled(true);
    try {
      loss.backward();
      for (int k = segments.size() - 1; k >= 0; k--) {
        Segment s = segments.get(k);
        try (TensorScope scope = TensorScope.open()) { // frees the recomputed graph's handles
          List<Tensor> outs = new ArrayList<>(), grads = new ArrayList<>();
          List<Tensor> recomputed = null;
          for (int i = 0; i < s.outputs().size(); i++) {
            Tensor g = s.outputs().get(i).grad();
            if (g == null) continue; // an output nothing downstream used
            if (recomputed == null) recomputed = s.block().apply(s.inputs());
            Tensor r = recomputed.get(i);
            if (!r.requiresGrad()) continue; // depends on no parameter or input leaf
            outs.add(r);
            grads.add(g);
          }
          if (!outs.isEmpty()) Autograd.backward(outs, grads);
        }
        Autograd.zeroGrad(s.outputs()); // their gradients are spent: release the memory now
      }
      List<Tensor> outs = new ArrayList<>(), grads = new ArrayList<>();
      try (TensorScope scope = TensorScope.open()) {
        for (int i = 0; i < entered.size(); i++) {
          Tensor g = enteredLeaves.get(i).grad();
          if (g == null) continue;
          outs.add(entered.get(i));
          grads.add(g);
        }
        if (!outs.isEmpty()) Autograd.backward(outs, grads);
      }
      Autograd.zeroGrad(enteredLeaves);
    } finally {
      Autograd.setGradEnabled(previous);
      segments.clear();
    }
  }
}

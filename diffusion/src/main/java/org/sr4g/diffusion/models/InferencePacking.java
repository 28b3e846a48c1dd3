package org.sr4g.diffusion.models;

import java.util.List;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.Torch;
import org.sr4g.torch.TorchException;

/**
 * Turns a loaded model into an inference-only one: every parameter stops requiring gradients and, on the CPU, every
 * convolution weight is packed once into oneDNN's layout ({@code Nn.packConv2d}) and its dense copy freed, so the
 * weights take no more memory than before and oneDNN no longer reorders each of them on every call. Training keeps
 * the dense weights (AdamW, EMA and checkpoints work on them, and the backward needs them). The packed weights are
 * the model's parameters from then on: nothing can change them under the packing (writes into a packed tensor fail).
 * On CUDA nothing is packed (cuDNN takes the dense weights).
 */
public final class InferencePacking {
  private final List<Conv2d> convs;
  private String status = "not packed (training layout)";

  InferencePacking(List<Conv2d> convs) {
    this.convs = convs;
  }

  /** Freezes and packs {@code params} (idempotent); returns this, which then says what was done. */
  synchronized InferencePacking apply(Params params) {
    if (status.startsWith("packed") || status.startsWith("CUDA")) return this;
    List<Tensor> all = params.list();
    for (Tensor t : all) t.requiresGrad(false);
    if (all.isEmpty() || convs.isEmpty()) return done("packed 0 conv weights (none in this model)");
    if (all.getFirst().device().isCuda()) return done("CUDA: conv weights not packed (cuDNN takes them as they are)");
    int packed = 0;
    try {
      for (Conv2d c : convs) {
        c.pack(params);
        packed++;
      }
      Torch.releaseFreeMemory(); // the dense copies' pages, which the allocator would otherwise keep
      return done("packed " + packed + " conv weights for oneDNN (dense copies freed)");
    } catch (TorchException | IllegalStateException e) {
      // Fallback with its reason: a CPU without the instructions for this dtype, an ATen built without oneDNN.
      String reason = e.getMessage().lines().findFirst().orElse("?");
      return done("packed " + packed + " of " + convs.size() + " conv weights; the rest run dense: " + reason);
    }
  }

  private InferencePacking done(String s) {
    status = s;
    return this;
  }

  /** Whether every conv weight is packed (false before packing, on CUDA and after a fallback). */
  public boolean isComplete() {
    return status.startsWith("packed " + convs.size() + " conv");
  }

  /** What was done, or why not, in one line. */
  @Override
  public String toString() {
    return status;
  }
}

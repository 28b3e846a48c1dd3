package org.sr4g.diffusion.models;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.sr4g.torch.Checkpoint;
import org.sr4g.torch.Tensor;

/**
 * diffusers' gradient checkpointing of the UNet's layers (every resnet, transformer, down- and upsampler is a
 * segment), on the native {@link Checkpoint}: a segment keeps only its inputs from the forward and is recomputed when
 * the backward reaches it, so a plain {@code loss.backward()} gives every parameter its gradient. Each recompute runs
 * under the autocast its forward ran with (the trainer's backward runs outside its autocast block, as torch's
 * checkpoint restores it); the gradients equal a plain backward's up to the summation order of gradients that meet at
 * a shared tensor ({@code GradientCheckpointingTest}).
 */
final class GradientCheckpointing {
  private GradientCheckpointing() {}

  /**
   * {@code block} applied to {@code inputs}: a checkpointed segment when {@code checkpoint} is on, a plain call when
   * off (no checkpointing, or no grad), so a module writes its forward once for both.
   */
  static Tensor segment(boolean checkpoint, Function<List<Tensor>, Tensor> block, Tensor... inputs) {
    return checkpoint ? Checkpoint.run1(block, inputs) : block.apply(Arrays.asList(inputs));
  }
}

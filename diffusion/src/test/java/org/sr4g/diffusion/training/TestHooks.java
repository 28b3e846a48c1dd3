package org.sr4g.diffusion.training;

import java.util.Set;
import java.util.function.Consumer;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.GradScaler;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/** The trainer's test hooks ({@link TrainingHooks}), set by chained calls: {@code new TestHooks().gradScaler().infGradAt(2L)}. */
final class TestHooks implements TrainingHooks {
  private Float scalerInit;
  private boolean frozenF32;
  private Set<Long> infGradSteps = Set.of();
  private Consumer<DiffusersModel> loaded = m -> {};

  /** The fp16 GradScaler without fp16 (torch's initial scale 2^16), so the CPU exercises loss scaling and skips. */
  TestHooks gradScaler() {
    return gradScaler(65536f);
  }

  TestHooks gradScaler(float initScale) {
    scalerInit = initScale;
    return this;
  }

  /** Keep the frozen VAE and text encoder float32 under mixed precision (the behaviour before they were cast). */
  TestHooks frozenF32() {
    frozenF32 = true;
    return this;
  }

  /** After the backward passes of these steps one gradient is made non-finite (an fp16 overflow stand-in). */
  TestHooks infGradAt(Long... steps) {
    return infGradAt(Set.of(steps));
  }

  TestHooks infGradAt(Set<Long> steps) {
    infGradSteps = steps;
    return this;
  }

  /** Sees the model right after it is loaded (to check the components' dtypes). */
  TestHooks loaded(Consumer<DiffusersModel> c) {
    loaded = c;
    return this;
  }

  @Override
  public void loaded(DiffusersModel model) {
    loaded.accept(model);
  }

  @Override
  public DType frozenDtype(DType chosen) {
    return frozenF32 ? DType.F32 : chosen;
  }

  @Override
  public GradScaler scaler(MixedPrecision precision, GradScaler standard) {
    return scalerInit != null && precision != MixedPrecision.FP16 ? new GradScaler(scalerInit, 2.0, 0.5, 2000) : standard;
  }

  /** Multiplies the first UNet parameter's gradient by +inf in place (inf where nonzero, NaN where zero). */
  @Override
  @SuppressWarnings("try")
  public void afterBackward(long step, TrainableParameters trainable) {
    if (!infGradSteps.contains(step)) return;
    try (TensorScope s = TensorScope.open(); ModeGuard ng = Autograd.noGrad()) {
      Tensor g = trainable.unet().list().get(0).grad();
      g.copyFrom(g.mul(Double.POSITIVE_INFINITY));
    }
  }
}

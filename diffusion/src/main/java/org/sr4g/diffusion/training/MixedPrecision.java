package org.sr4g.diffusion.training;

import org.sr4g.OptionValue;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.Precision;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.GradScaler;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Torch;

/**
 * {@code --mixed-precision no|bf16|fp16}: the UNet forward and the loss run under autocast in the lower precision
 * while the weights, their gradients and AdamW stay float32 (master weights); fp16 adds dynamic loss scaling
 * ({@link GradScaler}) and needs CUDA. bf16 runs on the CPU too (CPU autocast), which is how CI exercises it.
 */
public enum MixedPrecision implements OptionValue {
  NO(null),
  BF16(DType.BF16),
  FP16(DType.F16);

  private final DType dtype;

  MixedPrecision(DType dtype) {
    this.dtype = dtype;
  }

  /** Parses the option and checks it against the device (fp16 needs CUDA). */
  public static MixedPrecision parse(String s, Device device) {
    return parse(s == null ? "no" : s).on(device);
  }

  /** {@code no}, {@code bf16} or {@code fp16}; anything else is a user error. */
  public static MixedPrecision parse(String s) {
    return OptionValue.parse(MixedPrecision.class, "--mixed-precision", s);
  }

  /** This precision, checked against the device: fp16 needs CUDA. */
  public MixedPrecision on(Device device) {
    if (this == FP16 && !device.isCuda())
      throw new UserInputException("--mixed-precision fp16 needs --device cuda (float16 autocast and loss scaling are"
          + " CUDA-only here); use --mixed-precision bf16 on the CPU");
    return this;
  }

  @Override
  public String toString() {
    return spelling();
  }

  /** The lower precision (BF16 or F16), null for {@code no}. */
  public DType dtype() {
    return dtype;
  }

  /**
   * The dtype the frozen components (VAE, and the text encoder when not trained) are loaded in, as diffusers'
   * {@code vae.to(weight_dtype)}: the lower precision, or F32 for {@code no} and where that precision cannot run
   * the models on {@code device} (CPU bfloat16 with a libtorch lacking a kernel: {@link Precision#cpuBf16Problem}).
   */
  public DType frozenDtype(Device device) {
    if (dtype == null) return DType.F32;
    if (!device.isCuda() && dtype == DType.BF16 && Precision.cpuBf16Problem().isPresent()) return DType.F32;
    return dtype;
  }

  /** The autocast region for the forward and the loss; a no-op guard for {@code no}. */
  public ModeGuard autocast(Device device) {
    return dtype == null ? () -> {} : Torch.autocast(device, dtype);
  }

  /** torch's default GradScaler for fp16, null otherwise. */
  public GradScaler newScaler() {
    return this == FP16 ? new GradScaler() : null;
  }
}

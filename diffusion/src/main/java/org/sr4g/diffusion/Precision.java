package org.sr4g.diffusion;

import java.util.Locale;
import java.util.Optional;
import org.sr4g.UserInputException;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.TorchException;

/**
 * The {@code --dtype} of inference: parameters are cast to it on load (F32, F16 or BF16). On CUDA every one is
 * allowed. On the CPU float16 is refused (libtorch's CPU half kernels are incomplete: conv2d, group_norm and others
 * have none in 1.13), and bfloat16 is allowed only when this libtorch runs every op the models use in bfloat16 on the
 * CPU (checked once per JVM on tiny tensors; the refusal quotes libtorch's error).
 */
public final class Precision {
  private Precision() {}

  private static volatile Optional<String> cpuBf16Problem;

  /** {@code f32}, {@code f16} or {@code bf16} (also {@code float32}, {@code float16}, {@code bfloat16}). */
  public static DType parse(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "f32", "fp32", "float32" -> DType.F32;
      case "f16", "fp16", "float16", "half" -> DType.F16;
      case "bf16", "bfloat16" -> DType.BF16;
      default -> throw new UserInputException("unknown dtype '" + s + "' (f32, f16 or bf16)");
    };
  }

  public static String name(DType d) {
    return switch (d) {
      case F32 -> "f32";
      case F16 -> "f16";
      case BF16 -> "bf16";
      default -> d.name().toLowerCase(Locale.ROOT);
    };
  }

  /** Throws a {@link UserInputException} when models cannot run in {@code dtype} on {@code device}. */
  public static void require(DType dtype, Device device) {
    if (dtype == DType.F32 || device.isCuda()) return;
    if (dtype == DType.F16)
      throw new UserInputException("--dtype f16 is not supported on the CPU (libtorch's CPU float16 kernels are"
          + " incomplete); use f32, or bf16, or f16 on a CUDA device");
    if (dtype == DType.BF16) {
      Optional<String> problem = cpuBf16Problem();
      if (problem.isPresent())
        throw new UserInputException("--dtype bf16 is not supported on the CPU by this libtorch ("
            + problem.get() + "); use f32, or bf16 on a CUDA device");
      return;
    }
    throw new UserInputException("--dtype must be f32, f16 or bf16, not " + dtype);
  }

  /** Empty when every op of the models runs in bfloat16 on the CPU; otherwise libtorch's error. Cached. */
  public static Optional<String> cpuBf16Problem() {
    Optional<String> p = cpuBf16Problem;
    if (p == null) cpuBf16Problem = p = probeCpuBf16();
    return p;
  }

  private static Optional<String> probeCpuBf16() {
    try (ModeGuard ng = Autograd.noGrad(); TensorScope scope = TensorScope.open()) {
      DType b = DType.BF16;
      Device cpu = Device.CPU;
      Tensor x = Tensor.ones(b, cpu, 1, 8, 4, 4);
      Tensor w = Tensor.ones(b, cpu, 8, 8, 3, 3), bias = Tensor.ones(b, cpu, 8), g = Tensor.ones(b, cpu, 8);
      Tensor h = Nn.conv2d(x, w, bias, 1, 1, 1);
      h = Nn.groupNorm(h, 4, g, bias, 1e-6).silu();
      h = Nn.upsampleNearest2x(h);
      Tensor seq = h.reshape(1, 8, 64).permute(0, 2, 1).contiguous();
      Tensor lw = Tensor.ones(b, cpu, 8, 8);
      seq = Nn.layerNorm(seq, new long[] {8}, g, bias, 1e-5);
      seq = Nn.linear(seq, lw, bias).gelu().sigmoid();
      Tensor q = seq.reshape(1, 64, 2, 4).permute(0, 2, 1, 3);
      Tensor a = Nn.attention(q, q, q, null, false).softmax(-1);
      Nn.attention(q, q, q, null, true);
      Nn.embedding(lw, Tensor.of(new long[] {0, 1}, 2));
      a.sum().item();
      return Optional.empty();
    } catch (TorchException e) {
      String m = e.getMessage() == null ? "error" : e.getMessage().lines().findFirst().orElse("error");
      return Optional.of(m);
    }
  }
}

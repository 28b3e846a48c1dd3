package org.sr4g.torch;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Skips a test visibly when the engine was not built, except under CI=true, where that is a failure. Shared with the
 * diffusion and cli tests through this module's test-jar.
 */
public final class NativeAssume {
  private NativeAssume() {}

  public static void torch() {
    if (Torch.isAvailable()) return;
    String why = "libtorch engine unavailable: " + Torch.unavailableReason().orElse("?");
    if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(why + " — required when CI=true");
    Assumptions.abort(why);
  }

  /**
   * Distributed tests need the Gloo backend (libgloo-dev at build time): skip without it, fail under CI=true — except
   * where SR4G_GLOO_OPTIONAL=1 says a build without Gloo is expected (scripts/device-check.sh: PyTorch's wheels ship no
   * Gloo headers, and NCCL is what runs there).
   */
  public static void gloo() {
    torch();
    var why = ProcessGroup.unavailableReason(ProcessGroup.Backend.GLOO);
    if (why.isEmpty()) return;
    if ("true".equalsIgnoreCase(System.getenv("CI")) && !"1".equals(System.getenv("SR4G_GLOO_OPTIONAL")))
      Assertions.fail(why.get() + " — required when CI=true");
    Assumptions.abort(why.get());
  }

  /** GPU tests skip (never fail) without a CUDA device: CI has none. */
  public static void cudaTorch() {
    torch();
    Assumptions.assumeTrue(Torch.cudaDeviceCount() > 0, "no CUDA device visible to libtorch ("
        + (Torch.builtWithCuda() ? "libtorch has CUDA" : "this libtorch is CPU-only") + ")");
  }
}

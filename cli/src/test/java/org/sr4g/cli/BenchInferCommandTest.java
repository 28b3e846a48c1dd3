package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.diffusion.Precision;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.diffusion.models.BuiltInUNets;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.torch.NativeAssume;

/** {@code sr4g bench infer} on the CPU with the tiny config (never the full-size ones: too slow for tests). */
class BenchInferCommandTest {

  private static void requireTorch() {
    NativeAssume.torch();
  }

  static double field(String out, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + ": ([0-9.]+)").matcher(out);
    assertTrue(m.find(), "no " + name + " in:\n" + out);
    return Double.parseDouble(m.group(1));
  }

  @Test
  void tinyShapeOnCpuPrintsStepTimeThroughputAndPeakMemory() {
    requireTorch();
    CliRun r = CliRun.of("bench", "infer", "--shape", "tiny", "--device", "cpu", "--steps", "2", "--batch", "2",
        "--res", "64");
    assertEquals(0, r.code(), r.out() + r.err());
    String out = r.out();
    assertTrue(out.contains("shape tiny (random weights, seed 0), device cpu, dtype f32, batch 2 (UNet batch 4),"
        + " res 64 (latents 8x8), 2 steps + 1 warm-up"), out);
    long expected = UNet2DConditionModel.parameterShapes(BuiltInUNets.config("tiny")).values().stream()
        .mapToLong(s -> { long n = 1; for (long d : s) n *= d; return n; }).sum();
    assertEquals(expected, (long) field(out, "unet_parameters"));
    double median = field(out, "unet_step_median_ms");
    assertTrue(median > 0, out);
    // images/s = B / (steps × median): the printed figure follows from the printed median (rounding aside).
    double ips = field(out, "images_per_s");
    assertEquals(2 / (2 * median / 1000), ips, 0.02 * ips + 1e-3, out);
    assertTrue(field(out, "peak_memory_mib") > 10, out);
    assertTrue(out.contains("(process peak RSS, VmHWM)"), out);
    assertTrue(Pattern.compile("(?m)^step_ms: \\[[0-9.]+, [0-9.]+\\]$").matcher(out).find(), out);
    assertTrue(!out.contains("non-finite"), out);
  }

  @Test
  void modelFolderUsesItsUnet(@TempDir Path tmp) {
    requireTorch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 3);
    CliRun r = CliRun.of("bench", "infer", "--model", model.toString(), "--steps", "1", "--warmup", "0", "--res", "16");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("model " + model), r.out());
    assertTrue(field(r.out(), "unet_step_median_ms") > 0, r.out());
  }

  @Test
  void badArgumentsAreUserErrors() {
    requireTorch();
    CliRun r = CliRun.of("bench", "infer", "--shape", "sd99", "--steps", "1");
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("sr4g bench infer: error: unknown shape 'sd99' (one of sd15, sd21, tiny)"), r.err());
    r = CliRun.of("bench", "infer", "--shape", "tiny", "--res", "60");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--res must be a positive multiple of 8"), r.err());
    r = CliRun.of("bench", "infer", "--shape", "tiny", "--res", "8");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("must be divisible by 2 for this UNet (use a multiple of 16)"), r.err());
    r = CliRun.of("bench", "infer", "--steps", "1");
    assertEquals(2, r.code(), "one of --model and --shape is required");
    r = CliRun.of("bench", "infer", "--shape", "tiny", "--model", "x");
    assertEquals(2, r.code(), "--model and --shape exclude each other");
    r = CliRun.of("bench", "infer", "--shape", "tiny", "--dtype", "f64");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("unknown dtype 'f64' (f32, f16 or bf16)"), r.err());
  }

  @Test
  void f16IsRefusedOnTheCpu() {
    requireTorch();
    CliRun r = CliRun.of("bench", "infer", "--shape", "tiny", "--device", "cpu", "--dtype", "f16", "--steps", "1");
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("sr4g bench infer: error: --dtype f16 is not supported on the CPU"), r.err());
    assertTrue(r.out().isEmpty(), "refused before building anything: " + r.out());
  }

  /** bf16 on the CPU runs where this libtorch has the kernels, and is refused with libtorch's reason where not. */
  @Test
  void bf16OnTheCpuRunsOrIsRefusedClearly() {
    requireTorch();
    CliRun r = CliRun.of("bench", "infer", "--shape", "tiny", "--device", "cpu", "--dtype", "bf16", "--steps", "1",
        "--res", "16");
    if (Precision.cpuBf16Problem().isEmpty()) {
      assertEquals(0, r.code(), r.out() + r.err());
      assertTrue(r.out().contains("dtype bf16") && field(r.out(), "unet_step_median_ms") > 0, r.out());
    } else {
      assertEquals(2, r.code(), r.out() + r.err());
      assertTrue(r.err().contains("--dtype bf16 is not supported on the CPU by this libtorch ("), r.err());
    }
  }
}

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
        "--res", "16");
    assertEquals(0, r.code(), r.out() + r.err());
    String out = r.out();
    assertTrue(out.contains("shape tiny (random weights, seed 0), device cpu, dtype f32, batch 2 (UNet batch 4),"
        + " res 16 (latents 8x8), 2 steps + 1 warm-up"), out);
    // the settings line names every value the run used, defaults included
    assertTrue(out.contains("settings: shape tiny (random weights, seed 0), dtype f32, conv packing on, batch 2, res 16,"
        + " 2 timed steps + 1 warm-up, device cpu, seed 0, attention slice auto (budget 256 MiB), malloc "), out);
    assertTrue(out.contains("conv_packing: packed 33 conv weights for oneDNN (dense copies freed)"), out);
    assertTrue(field(out, "first_step_over_median") > 0, out);
    long expected = UNet2DConditionModel.LOADER.parameterShapes(BuiltInUNets.config("tiny")).values().stream()
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

  /** With no option at all: the tiny shape at its own resolution (sample_size 8 × VAE factor 2), unpacked on request. */
  @Test
  void defaultsAreTheTinyModelAtItsOwnSize() {
    requireTorch();
    CliRun r = CliRun.of("bench", "infer", "--steps", "1", "--warmup", "0", "--conv-packing", "off", "--attention-slice", "8");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("settings: shape tiny (random weights, seed 0), dtype f32, conv packing off, batch 1, res 16"
        + " (the model's default), 1 timed steps + 0 warm-up, device cpu, seed 0, attention slice 8 rows"), r.out());
    assertTrue(r.out().contains("conv_packing: off"), r.out());
    org.sr4g.torch.AttentionSlicing.set(org.sr4g.torch.AttentionSlicing.AUTO); // the CLI ran in this JVM
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
    r = CliRun.of("bench", "infer", "--shape", "tiny", "--res", "30");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--res 30 must be a positive multiple of 4 for this UNet (VAE factor 2 x UNet downsampling 2)"),
        r.err());
    r = CliRun.of("bench", "infer", "--shape", "sd15", "--res", "96");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--res 96 must be a positive multiple of 64"), r.err());
    r = CliRun.of("bench", "infer", "--shape", "tiny", "--model", "x");
    assertEquals(2, r.code(), "--model and --shape exclude each other");
    assertTrue(r.err().contains("give --model or --shape, not both"), r.err());
    r = CliRun.of("bench", "infer", "--attention-slice", "half");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--attention-slice: attention slice must be auto, off or a positive number"), r.err());
    r = CliRun.of("bench", "infer", "--conv-packing", "maybe");
    assertEquals(2, r.code());
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

package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code sr4g bench train} on the tiny shape. */
class BenchTrainCommandTest {
  @Test
  void tinyShapeTwoSteps() {
    TrainCommandTest.requireTorch();
    CliRun r = CliRun.of("bench", "train", "--shape", "tiny", "--steps", "2", "--batch", "2", "--res", "32");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("shape tiny"), r.out());
    assertTrue(r.out().contains("1 warm-up + 2 timed steps"), r.out());
    Matcher m = Pattern.compile("median step ([0-9.]+) ms  ([0-9.]+) images/s  peak RSS ([0-9.]+) MiB").matcher(r.out());
    assertTrue(m.find(), r.out());
    assertTrue(Double.parseDouble(m.group(1)) > 0);
    assertTrue(Double.parseDouble(m.group(2)) > 0);
    assertTrue(Double.parseDouble(m.group(3)) > 0);
    assertEquals(2, r.out().lines().filter(l -> l.startsWith("step ms: ")).findFirst().orElseThrow().split(" ").length - 2);
  }

  @Test
  void mixedPrecision() {
    TrainCommandTest.requireTorch();
    CliRun r = CliRun.of("bench", "train", "--shape", "tiny", "--steps", "1", "--warmup", "0", "--res", "16",
        "--mixed-precision", "bf16");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("mixed precision bf16"), r.out());
    assertTrue(r.out().contains("median step "), r.out());
    r = CliRun.of("bench", "train", "--shape", "tiny", "--steps", "1", "--res", "16", "--mixed-precision", "fp16");
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("--mixed-precision fp16 needs --device cuda"), r.err());
  }

  @Test
  void gradientCheckpointingFlag() {
    TrainCommandTest.requireTorch();
    CliRun r = CliRun.of("bench", "train", "--shape", "tiny", "--steps", "1", "--batch", "2", "--res", "16",
        "--gradient-checkpointing");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("gradient checkpointing on"), r.out());
    assertTrue(Pattern.compile("median step [0-9.]+ ms  [0-9.]+ images/s  peak RSS [0-9.]+ MiB  \\(RSS before the"
        + " first step [0-9.]+ MiB\\)").matcher(r.out()).find(), r.out());
    CliRun off = CliRun.of("bench", "train", "--shape", "tiny", "--steps", "1", "--batch", "2", "--res", "16");
    assertTrue(off.out().contains("gradient checkpointing off"), off.out());
  }

  /** A CUDA device this libtorch cannot use is a one-line user error before any work (found by a dry run of
   * scripts/device-check.sh on a CPU machine, where it was an internal error from the first weight copy). */
  @Test
  void missingCudaDeviceIsAUserError() {
    TrainCommandTest.requireTorch();
    CliRun r = CliRun.of("bench", "train", "--shape", "tiny", "--steps", "1", "--res", "16", "--device", "cuda:99");
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("--device cuda:99: libtorch sees " + org.sr4g.torch.Torch.cudaDeviceCount()
        + " CUDA device(s)"), r.err());
    assertFalse(r.err().contains("internal error") || r.err().contains("\tat "), r.err());
  }

  @Test
  void badResolutionIsAUserError() {
    TrainCommandTest.requireTorch();
    CliRun r = CliRun.of("bench", "train", "--shape", "tiny", "--steps", "1", "--res", "30");
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("--res 30 must be a positive multiple of 4"), r.err());
  }
}

package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.sr4g.torch.NativeAssume;

/** {@code sr4g bench train --nproc-per-node 2} and {@code sr4g bench allreduce}: their launchers and their reports. */
class DistributedBenchCommandTest {
  @BeforeEach
  void need() {
    NativeAssume.gloo();
  }

  @AfterEach
  void noStrayWorkers() throws Exception {
    Workers.noneLeft();
  }

  @Test
  void benchTrainComparesOneAndTwoProcesses() {
    CliRun r = CliRun.of("bench", "train", "--shape", "tiny", "--steps", "1", "--warmup", "0", "--batch", "1", "--res",
        "16", "--nproc-per-node", "2");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("run 1, 1 process(es): step "), r.out());
    Matcher m = Pattern.compile("2 processes: step ([0-9.]+) ms, ([0-9.]+) images/s, scaling efficiency ([0-9.]+) \\(images/s"
        + " against 2 × one process\\), all-reduce ([0-9.]+) ms per step \\(3\\.0 MiB of gradients, ([0-9.]+) GB/s\\)")
        .matcher(r.out());
    assertTrue(m.find(), r.out());
    for (int g = 1; g <= 5; g++) assertTrue(Double.parseDouble(m.group(g)) > 0, m.group());
    assertTrue(r.out().contains("1 process:   step "), r.out());
  }

  @Test
  void benchAllReduce() {
    CliRun r = CliRun.of("bench", "allreduce", "--nproc-per-node", "2", "--mib", "1", "--repeats", "2", "--warmup", "1");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(Pattern.compile("bench allreduce: 2 processes, 1\\.00 MiB float32 \\(262,144 values\\), device cpu: median"
        + " [0-9.]+ ms over 2, [0-9.]+ GB/s").matcher(r.out()).find(), r.out());
    CliRun alone = CliRun.of("bench", "allreduce");
    assertEquals(2, alone.code(), alone.out() + alone.err());
    assertTrue(alone.err().contains("needs several processes"), alone.err());
  }
}

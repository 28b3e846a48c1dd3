package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.diffusion.safetensors.SafetensorsDiff;
import org.sr4g.torch.NativeAssume;

/**
 * {@code sr4g train --nproc-per-node 2}: the launcher in this JVM starts two worker JVMs (Gloo on the CPU, a TCPStore
 * on loopback). N ranks × batch B must train as one process with batch N·B — losses within 1e-6 relative, every UNet
 * tensor within 1e-6 of its largest value — and must stop cleanly when a worker dies. Every test checks that no
 * worker process outlives it.
 */
class DistributedTrainCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  // Two ranks of batch 2 run every matrix product with half the rows of one process of batch 4. The reference BLAS
  // rounds a row the same either way (weights within 1e-6); OpenBLAS blocks over the rows and rounds some differently,
  // which six AdamW steps carry to 4.9e-6 of a tensor's largest value. A real fault (gradients summed instead of
  // averaged, a rank's data dropped) moves the weights by orders of magnitude more (the bf16 floor below is 1.8e-4).
  private static final double LOSS_TOL = 1e-6, WEIGHT_TOL = 1e-5;
  private static final Pattern STARTED = Pattern.compile("rank (\\d+) pid (\\d+)");

  /** Shared by the tests that compare against the reference runs (made once, see {@link #reference()}). */
  @TempDir static Path shared;

  @BeforeEach
  void need() {
    NativeAssume.gloo();
  }

  @AfterEach
  void noStrayWorkers() throws Exception {
    Workers.noneLeft(); // the launcher ran in this JVM: every worker it started is a child of this process
  }

  static List<String> args(Path tmp, String out, int batch, String... extra) {
    List<String> a = new ArrayList<>(List.of("train", "--model", tmp.resolve("model").toString(), "--data",
        tmp.resolve("train.jsonl").toString(), "--images", tmp.resolve("images").toString(), "--out",
        tmp.resolve(out).toString(), "--resolution", "16", "--batch-size", "" + batch, "--max-steps", "6", "--seed", "9", "--checkpoint-every", "1", "--random-flip", "--random-crop", "--workers", "1",
        "--dist-timeout", "120s"));
    a.addAll(List.of(extra));
    return a;
  }

  static CliRun run(List<String> args) {
    return CliRun.of(args.toArray(String[]::new));
  }

  static List<Double> losses(Path metrics) throws Exception {
    List<Double> r = new ArrayList<>();
    for (String l : Files.readAllLines(metrics)) r.add(JSON.readTree(l).get("loss").asDouble());
    return r;
  }

  static void assertLossesClose(List<Double> expected, List<Double> actual) {
    assertEquals(expected.size(), actual.size(), expected + " vs " + actual);
    for (int i = 0; i < expected.size(); i++)
      assertTrue(Math.abs(expected.get(i) - actual.get(i)) <= LOSS_TOL * Math.abs(expected.get(i)),
          "step " + (i + 1) + ": " + expected + " vs " + actual);
  }

  /** The largest difference of any UNet tensor, relative to that tensor's largest magnitude. */
  static double weightDifference(Path a, Path b) {
    String f = "unet/diffusion_pytorch_model.safetensors";
    return SafetensorsDiff.maxRelative(a.resolve(f), b.resolve(f));
  }

  static JsonNode state(Path checkpoint) throws Exception {
    return JSON.readTree(checkpoint.resolve("state.json").toFile());
  }

  /** The reference runs of (a), (c) and (d), made once: 1 process × batch 4 and 2 ranks × batch 2. */
  private Path reference() throws Exception {
    if (Files.exists(shared.resolve("two/model"))) return shared;
    TrainCommandTest.setup(shared);
    CliRun one = run(args(shared, "one", 4));
    assertEquals(0, one.code(), one.out() + one.err());
    CliRun two = run(args(shared, "two", 2, "--nproc-per-node", "2"));
    assertEquals(0, two.code(), two.out() + two.err());
    assertTrue(two.err().contains("started 2 worker(s) of 2"), two.err());
    assertEquals(6, two.out().lines().filter(l -> l.startsWith("step ")).count(), "progress from rank 0 only:\n" + two.out());
    assertTrue(two.out().contains("step 6/6  loss "), two.out());
    return shared;
  }

  /** (a) 2 ranks × batch 2 = 1 process × batch 4 over 6 steps. */
  @Test
  void twoRanksEqualOneProcessWithTheGlobalBatch() throws Exception {
    Path tmp = reference();
    assertLossesClose(losses(tmp.resolve("one/metrics.jsonl")), losses(tmp.resolve("two/metrics.jsonl")));
    double d = weightDifference(tmp.resolve("one/model"), tmp.resolve("two/model"));
    assertTrue(d <= WEIGHT_TOL, "UNet weights differ by " + d + " of a tensor's largest value");
    System.out.printf("(a) 2 ranks vs 1 process: losses %.2e relative, weights %.2e of a tensor's max%n",
        maxRelative(losses(tmp.resolve("one/metrics.jsonl")), losses(tmp.resolve("two/metrics.jsonl"))), d);
    JsonNode s = state(tmp.resolve("two/checkpoints/checkpoint-6"));
    assertEquals(2, s.get("world_size").asInt(), s.toString());
    assertEquals(4, s.get("options").get("batch_size").asInt(), "the global batch: " + s);
    assertEquals(List.of(12L, 12L), List.of(s.get("data_positions").get(0).asLong(), s.get("data_positions").get(1).asLong()));
    assertEquals(24, s.get("data_position").asLong());
    assertEquals(1, state(tmp.resolve("one/checkpoints/checkpoint-6")).get("world_size").asInt());

    // Without the all-reduce the ranks part: DistributedTrainerTest (two ranks on threads, a test hook).
  }

  /** A user mistake every worker makes: the launcher stops them and exits 2 with the first one's one-line message. */
  @Test
  void aUserErrorInTheWorkersIsOneLineAndExitCode2(@TempDir Path tmp) throws Exception {
    TrainCommandTest.setup(tmp);
    Files.writeString(tmp.resolve("train.jsonl"), "{\"file_name\":\"im0.png\"}\n");
    CliRun r = run(args(tmp, "bad", 2, "--nproc-per-node", "2"));
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(Pattern.compile("sr4g train: rank [01] \\(pid \\d+\\) failed \\(exit 2\\): sr4g train: error: .*train.jsonl:1:"
        + " missing or empty string field 'caption'; stopped the other worker\\(s\\)").matcher(r.err()).find(), r.err());
    List<String> a = args(tmp, "bad", 2, "--nproc-per-node", "2");
    a.set(a.indexOf("120s"), "soon");
    CliRun badTimeout = run(a);
    assertEquals(2, badTimeout.code(), badTimeout.err());
    assertTrue(badTimeout.err().contains("--dist-timeout soon: expected a positive duration such as 90s, 30m or 2h"),
        badTimeout.err());
  }

  /**
   * (b) With gradient accumulation (no sync on the first micro-batch), gradient checkpointing (a backward of many
   * passes), EMA and bf16 autocast. In float32 the same flags meet the 1e-6 bounds (DistributedTrainerTest, two ranks on
   * threads). With bf16 no run equals another within 1e-6 — not even one process against itself with another summation
   * order — because a master weight that moves by a rounding error can flip its bf16 copy by a whole bf16 step
   * (docs/training.md, Distributed training): so 2 ranks must stay within 3 times the difference one process shows
   * between gradient checkpointing on and off, and step 1 (same weights, same bf16 forward) within 1e-6.
   */
  @Test
  void equalityHoldsWithAccumulationCheckpointingEmaAndBf16(@TempDir Path tmp) throws Exception {
    TrainCommandTest.setup(tmp);
    String[] common = {"--grad-accum", "2", "--ema", "--ema-decay", "0.9", "--mixed-precision", "bf16"};
    CliRun one = run(args(tmp, "one", 4, concat(common, "--gradient-checkpointing")));
    assertEquals(0, one.code(), one.out() + one.err());
    CliRun floor = run(args(tmp, "floor", 4, common));
    assertEquals(0, floor.code(), floor.out() + floor.err());
    CliRun two = run(args(tmp, "two", 2, concat(common, "--gradient-checkpointing", "--nproc-per-node", "2")));
    assertEquals(0, two.code(), two.out() + two.err());
    assertTrue(two.out().contains("gradient checkpointing: on"), two.out());
    assertEquals(24, state(tmp.resolve("two/checkpoints/checkpoint-6")).get("data_positions").get(1).asLong(),
        "6 steps × 2 micro-batches × batch 2 per rank");
    List<Double> b1 = losses(tmp.resolve("one/metrics.jsonl")), b2 = losses(tmp.resolve("two/metrics.jsonl")),
        bf = losses(tmp.resolve("floor/metrics.jsonl"));
    assertLossesClose(b1.subList(0, 1), b2.subList(0, 1));
    double lossDiff = maxRelative(b1, b2), lossFloor = maxRelative(b1, bf);
    double w2 = weightDifference(tmp.resolve("one/checkpoints/checkpoint-6"), tmp.resolve("two/checkpoints/checkpoint-6"));
    double wf = weightDifference(tmp.resolve("one/checkpoints/checkpoint-6"), tmp.resolve("floor/checkpoints/checkpoint-6"));
    double ema = weightDifference(tmp.resolve("one/model"), tmp.resolve("two/model"));
    double emaFloor = weightDifference(tmp.resolve("one/model"), tmp.resolve("floor/model"));
    System.out.printf("(b) bf16: losses %.2e relative (floor %.2e), weights %.2e (floor %.2e), EMA %.2e (floor %.2e)%n",
        lossDiff, lossFloor, w2, wf, ema, emaFloor);
    assertTrue(lossDiff <= Math.max(3 * lossFloor, LOSS_TOL), "bf16 losses: 2 ranks " + lossDiff + ", floor " + lossFloor);
    assertTrue(w2 <= Math.max(3 * wf, WEIGHT_TOL), "bf16 weights: 2 ranks " + w2 + ", floor " + wf);
    assertTrue(ema <= Math.max(3 * emaFloor, WEIGHT_TOL), "bf16 EMA weights: 2 ranks " + ema + ", floor " + emaFloor);
  }

  static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  static double maxRelative(List<Double> a, List<Double> b) {
    double m = 0;
    for (int i = 0; i < a.size(); i++) m = Math.max(m, Math.abs(a.get(i) - b.get(i)) / Math.abs(a.get(i)));
    return m;
  }

  /**
   * (c) kill -9 of one worker mid-run: the launcher (its own JVM here, so that its workers can be found and killed)
   * stops the other and exits non-zero naming the killed rank; {@code --resume latest} with 2 ranks then finishes with
   * the losses and the bit-identical weights of the uninterrupted run. (d) A 2-rank checkpoint resumed by one process
   * with the same global batch continues with the same losses; with another global batch it is refused.
   */
  @Test
  void aKilledWorkerStopsTheRunWhichResumesExactlyWithAnyWorldSizeOfTheSameGlobalBatch() throws Exception {
    Path tmp = reference();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp",
        System.getProperty("java.class.path"), Sr4g.class.getName()));
    cmd.addAll(args(tmp, "killed", 2, "--nproc-per-node", "2"));
    Path log = tmp.resolve("launcher.log");
    Process launcher = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long[] pids = new long[2];
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      Path marker = tmp.resolve("killed/checkpoints/checkpoint-2");
      while (!Files.exists(marker) && launcher.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
      assertTrue(launcher.isAlive(), "the run ended before a worker could be killed:\n" + Files.readString(log));
      Matcher m = STARTED.matcher(Files.readString(log));
      while (m.find()) pids[Integer.parseInt(m.group(1))] = Long.parseLong(m.group(2));
      assertTrue(pids[0] > 0 && pids[1] > 0, Files.readString(log));
      long t0 = System.nanoTime();
      assertTrue(ProcessHandle.of(pids[1]).orElseThrow().destroyForcibly(), "SIGKILL to rank 1");
      assertTrue(launcher.waitFor(60, TimeUnit.SECONDS), "the launcher stops within the timeout");
      String out = Files.readString(log);
      assertNotEquals(0, launcher.exitValue(), out);
      assertTrue(out.contains("sr4g train: rank 1 (pid " + pids[1] + ") was killed by signal 9 (SIGKILL); stopped the"
          + " other worker(s)"), out);
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(60));
      for (long pid : pids) assertTrue(ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), "worker " + pid + " left");
    } finally {
      launcher.destroyForcibly();
      for (long pid : pids) if (pid > 0) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    List<Double> straight = losses(tmp.resolve("two/metrics.jsonl"));
    assertTrue(losses(tmp.resolve("killed/metrics.jsonl")).size() < 6, "killed before the end");

    CliRun resumed = run(args(tmp, "killed", 2, "--nproc-per-node", "2", "--resume", "latest"));
    assertEquals(0, resumed.code(), resumed.out() + resumed.err());
    assertTrue(resumed.out().contains("resumed from"), resumed.out());
    assertEquals(straight, losses(tmp.resolve("killed/metrics.jsonl")));
    assertArrayEquals(Files.readAllBytes(tmp.resolve("two/model/unet/diffusion_pytorch_model.safetensors")),
        Files.readAllBytes(tmp.resolve("killed/model/unet/diffusion_pytorch_model.safetensors")), "bit-identical");

    // (d) one process, batch 4 = the same global batch, from the 2-rank checkpoint of step 3
    String ckpt = tmp.resolve("two/checkpoints/checkpoint-3").toString();
    CliRun single = run(args(tmp, "single", 4, "--resume", ckpt));
    assertEquals(0, single.code(), single.out() + single.err());
    assertLossesClose(straight.subList(3, 6), losses(tmp.resolve("single/metrics.jsonl")));
    CliRun refused = run(args(tmp, "refused", 2, "--resume", ckpt));
    assertEquals(2, refused.code(), refused.out() + refused.err());
    assertTrue(refused.err().contains("the checkpoint was written by 2 rank(s) with a global batch of 4; this run has"
        + " 1 rank(s) × --batch-size 2 = 2. Another world size needs the same global batch: resume with --batch-size 4"
        + " on 1 rank(s)"), refused.err());
  }
}

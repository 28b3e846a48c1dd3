package org.sr4g.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.BuiltInUNets;
import org.sr4g.diffusion.training.TrainBench;
import org.sr4g.diffusion.training.distributed.World;
import org.sr4g.torch.Device;
import org.sr4g.torch.ProcessGroup;

/**
 * {@code sr4g bench train --nproc-per-node N}: one-process and N-process runs of the training-step benchmark, each in
 * fresh worker JVMs started by the launcher and alternated {@code --repeats} times (this machine is shared: side by
 * side, several times), then the step time, images/s, scaling efficiency and all-reduce cost of each.
 */
final class DistributedBench {
  /** The line rank 0 of a bench worker prints for the launcher: this prefix, then the result as JSON. */
  static final String RESULT = "bench-result ";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final BenchCommand.Train t;
  private int failedWith = 1;

  DistributedBench(BenchCommand.Train t) {
    this.t = t;
  }

  /** In a bench worker of several processes: its process group (Gloo on the CPU, NCCL on CUDA); null for one. */
  static ProcessGroup join(DistributedMixin dist, Optional<World> worker, String device) {
    if (worker.isEmpty() || !worker.get().isDistributed()) return null;
    World w = worker.get();
    Device dev = Device.forUser(device);
    ProcessGroup.Backend backend = ProcessGroup.Backend.forDevice(dev);
    ProcessGroup.unavailableReason(backend).ifPresent(why -> {
      throw new UserInputException("bench train on " + dev + " with " + w.size() + " processes: " + why);
    });
    return ProcessGroup.join(dist.options(worker).rendezvous(), w.rank(), w.size(), backend, dev, dist.timeout(),
        w.hostsStore(), w.storePrefix());
  }

  static String json(TrainBench.Result r) {
    ObjectNode n = JSON.createObjectNode();
    n.put("world_size", r.worldSize()).put("batch", r.batch()).put("median_ms", r.medianMs())
        .put("images_per_s", r.imagesPerSecond()).put("all_reduce_ms", r.allReduceMs())
        .put("gradient_bytes", r.gradientBytes()).put("parameters", r.parameters());
    return n.toString();
  }

  int compare() {
    int n = t.dist.nprocPerNode;
    if (t.dist.nnodes != 1) throw new UserInputException("bench train measures one machine: --nnodes must be 1");
    if (t.repeats < 1) throw new UserInputException("--repeats must be at least 1");
    PrintWriter w = t.spec.commandLine().getOut();
    List<JsonNode> one = new ArrayList<>(), many = new ArrayList<>();
    for (int k = 0; k < t.repeats; k++) {
      for (int procs : new int[] {1, n}) {
        JsonNode r = runWith(procs);
        if (r == null) return failedWith;
        (procs == 1 ? one : many).add(r);
        w.println(String.format(Locale.ROOT, "run %d, %d process(es): step %.1f ms, %.2f images/s%s", k + 1, procs,
            r.get("median_ms").asDouble(), r.get("images_per_s").asDouble(), procs > 1
                ? String.format(Locale.ROOT, ", all-reduce %.2f ms", r.get("all_reduce_ms").asDouble()) : ""));
        w.flush();
      }
    }
    double ms1 = median(one, "median_ms"), ips1 = median(one, "images_per_s");
    double msN = median(many, "median_ms"), ipsN = median(many, "images_per_s"), ar = median(many, "all_reduce_ms");
    long bytes = many.getFirst().get("gradient_bytes").asLong();
    w.println(String.format(Locale.ROOT, "bench train: shape %s (%,d parameters), batch %d per process, res %d, device"
        + " %s, %d timed steps per run, medians of %d run(s); %d cores, %d compute thread(s) in every process",
        t.bench.shape, many.getFirst().get("parameters").asLong(), t.bench.batch,
        t.bench.resolve(BuiltInUNets.defaultResolution(t.bench.shape)), t.bench.device, t.bench.steps, t.repeats,
        Runtime.getRuntime().availableProcessors(), threadsPerProcess()));
    w.println(String.format(Locale.ROOT, "1 process:   step %.1f ms, %.2f images/s", ms1, ips1));
    w.println(String.format(Locale.ROOT, "%d processes: step %.1f ms, %.2f images/s, scaling efficiency %.2f"
        + " (images/s against %d × one process), all-reduce %.2f ms per step (%.1f MiB of gradients, %.2f GB/s)", n, msN,
        ipsN, ipsN / (n * ips1), n, ar, bytes / 1048576.0, bytes / ar / 1e6));
    w.flush();
    return 0;
  }

  /** One run of the benchmark with {@code procs} worker processes; null when it failed (the launcher said why). */
  private JsonNode runWith(int procs) {
    AtomicReference<String> result = new AtomicReference<>();
    PrintWriter w = t.spec.commandLine().getOut();
    int code = t.dist.launch(t.spec, line -> {
      if (line.startsWith(RESULT)) result.set(line.substring(RESULT.length()));
    }, procs, threadsPerProcess());
    if (code != 0 || result.get() == null) {
      w.println("bench train: the run with " + procs + " process(es) failed (exit " + code + ")");
      if (code != 0) failedWith = code;
      return null;
    }
    try {
      return JSON.readTree(result.get());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The same compute threads in every process of both configurations (cores / N, or OMP_NUM_THREADS when set), as each
   * process of a GPU run owns one GPU: the efficiency then measures what data parallelism costs (the all-reduce, the
   * waits for the slowest rank), not how one process's thread pool scales.
   */
  private int threadsPerProcess() {
    String omp = System.getenv("OMP_NUM_THREADS");
    if (omp != null && omp.strip().matches("\\d+")) return Integer.parseInt(omp.strip());
    return Math.max(1, Runtime.getRuntime().availableProcessors() / t.dist.nprocPerNode);
  }

  private static double median(List<JsonNode> runs, String field) {
    return TrainBench.median(runs.stream().mapToDouble(r -> r.get(field).asDouble()).toArray());
  }
}

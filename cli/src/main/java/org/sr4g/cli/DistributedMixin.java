package org.sr4g.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.training.distributed.DistributedOptions;
import org.sr4g.diffusion.training.distributed.WorkerLauncher;
import org.sr4g.diffusion.training.distributed.World;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The data-parallel options of {@code sr4g train} and {@code sr4g bench train}, named as torchrun's. A process started
 * with torchrun's variables already set ({@code RANK}, {@code WORLD_SIZE}, …: by torchrun, a Slurm wrapper or
 * Kubernetes) is one worker and ignores the launcher options; otherwise {@code --nproc-per-node N} (or
 * {@code --nnodes M}) makes this process the launcher of this node's N workers: the same command line in N new JVMs.
 */
final class DistributedMixin {
  @Option(names = "--nproc-per-node", defaultValue = "1", paramLabel = "N",
      description = "worker processes on this machine, one per GPU with --device cuda (default: ${DEFAULT-VALUE})")
  int nprocPerNode;
  @Option(names = "--nnodes", defaultValue = "1", paramLabel = "M", description = "machines (default: ${DEFAULT-VALUE})")
  int nnodes;
  @Option(names = "--node-rank", defaultValue = "0", paramLabel = "R",
      description = "this machine's index in [0, M) (default: ${DEFAULT-VALUE})") int nodeRank;
  @Option(names = "--master-addr", defaultValue = "127.0.0.1", paramLabel = "HOST",
      description = "the machine of rank 0, which hosts the rendezvous (default: ${DEFAULT-VALUE})") String masterAddr;
  @Option(names = "--master-port", defaultValue = "0", paramLabel = "PORT",
      description = "its rendezvous port; 0: a free port on one machine, 29500 across machines (default: ${DEFAULT-VALUE})")
  int masterPort;
  @Option(names = "--dist-init", paramLabel = "file://PATH|tcp://HOST:PORT",
      description = "the rendezvous instead of MASTER_ADDR:MASTER_PORT; file://PATH: a file store (PATH must not exist)")
  String distInit;
  @Option(names = "--dist-timeout", defaultValue = "30m", paramLabel = "DURATION",
      description = "the longest any rank waits for the others (joining, every collective); 90s, 30m, 2h (default: ${DEFAULT-VALUE})")
  String distTimeout;

  /** This process's world from torchrun's variables, or empty when it is not a worker. */
  static Optional<World> worker() {
    return World.fromEnv(System.getenv());
  }

  /** Whether this process should start workers instead of training itself. */
  boolean launches(Optional<World> worker) {
    return worker.isEmpty() && (nprocPerNode > 1 || nnodes > 1);
  }

  /** The options a process trains with: the worker's world, or one process. */
  DistributedOptions options(Optional<World> worker) {
    return new DistributedOptions(worker.orElse(World.SINGLE), distInit, timeout(), true);
  }

  Duration timeout() {
    Matcher m = Pattern.compile("(\\d+)\\s*(s|m|h)?").matcher(distTimeout.strip());
    if (!m.matches() || Long.parseLong(m.group(1)) == 0)
      throw new UserInputException("--dist-timeout " + distTimeout + ": expected a positive duration such as 90s, 30m or 2h");
    long n = Long.parseLong(m.group(1));
    return m.group(2) == null || m.group(2).equals("s") ? Duration.ofSeconds(n)
        : m.group(2).equals("m") ? Duration.ofMinutes(n) : Duration.ofHours(n);
  }

  /**
   * In a worker: {@code cuda} becomes this rank's own GPU, {@code cuda:LOCAL_RANK} (NCCL needs one device per rank);
   * an explicit {@code cuda:N} with several ranks on the machine is refused.
   */
  static String workerDevice(String device, World w) {
    if (!w.isDistributed()) return device;
    if (device.equals("cuda")) return "cuda:" + w.localRank();
    if (device.startsWith("cuda:") && w.localSize() > 1)
      throw new UserInputException("--device " + device + " with " + w.localSize() + " ranks on this machine: use"
          + " --device cuda (rank R takes cuda:LOCAL_RANK)");
    return device;
  }

  /**
   * Runs this node's workers of the command that {@code spec} parsed (the same arguments, in new JVMs with torchrun's
   * variables) and returns the exit code: 0, or the failed worker's (2 for a user error, else 1), after one line
   * naming it.
   */
  int launch(CommandSpec spec, Consumer<String> rank0Out) {
    return launch(spec, rank0Out, nprocPerNode, Math.max(1, Runtime.getRuntime().availableProcessors() / nprocPerNode));
  }

  /**
   * {@link #launch(CommandSpec, Consumer)} with {@code nproc} workers instead of --nproc-per-node's, each with
   * {@code threads} compute threads (OMP_NUM_THREADS, unless it is set already).
   */
  int launch(CommandSpec spec, Consumer<String> rank0Out, int nproc, int threads) {
    if (nproc < 1 || nnodes < 1 || nodeRank < 0 || nodeRank >= nnodes)
      throw new UserInputException("--nproc-per-node and --nnodes must be at least 1, --node-rank in [0, --nnodes)");
    timeout(); // a bad value is refused here, once, not by every worker
    if (nnodes > 1 && distInit == null && (masterAddr.startsWith("127.") || masterAddr.equals("localhost")))
      throw new UserInputException("--nnodes " + nnodes + " needs --master-addr: the address of node 0's machine, which"
          + " every node can reach");
    if (distInit != null && distInit.startsWith("file://") && Files.exists(Path.of(distInit.substring(7))))
      throw new UserInputException("--dist-init " + distInit + ": the file exists (a file store keeps the keys of the"
          + " run that made it): pass a path that does not exist yet");
    int port = masterPort != 0 ? masterPort : nnodes > 1 ? 29500 : freePort();
    Map<String, String> env = new HashMap<>();
    // torchrun's default: without it every worker would start one compute thread per core (oversubscribed).
    if (System.getenv("OMP_NUM_THREADS") == null) env.put("OMP_NUM_THREADS", Integer.toString(threads));
    PrintStream out = System.out, err = System.err;
    WorkerLauncher.Failure f = new WorkerLauncher(out, err, rank0Out).run(workerCommand(spec), nproc, nnodes,
        nodeRank, masterAddr, port, env);
    if (f == null) return 0;
    err.println(spec.qualifiedName() + ": " + f.describe() + "; stopped the other worker(s)");
    err.flush();
    return f.exitCode() == UserErrors.USER_ERROR ? UserErrors.USER_ERROR : 1;
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port for the rendezvous: " + e.getMessage(), e);
    }
  }

  /** This JVM's command line again: java, its memory and system-property options, the classpath, sr4g's arguments. */
  static List<String> workerCommand(CommandSpec spec) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--add-modules");
    cmd.add("jdk.incubator.vector");
    cmd.add("--enable-native-access=ALL-UNNAMED");
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments())
      if (a.startsWith("-Xmx") || a.startsWith("-Xms") || a.startsWith("-Xss") || a.startsWith("-D")) cmd.add(a);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Sr4g.class.getName());
    cmd.addAll(spec.commandLine().getParseResult().originalArgs());
    return cmd;
  }
}

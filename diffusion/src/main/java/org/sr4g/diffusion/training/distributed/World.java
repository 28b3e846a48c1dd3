package org.sr4g.diffusion.training.distributed;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.sr4g.UserInputException;

/**
 * Who this process is in a data-parallel run, in torchrun's terms: {@code rank} of {@code size} processes in all,
 * {@code localRank} of {@code localSize} on this machine, and where rank 0 hosts the rendezvous
 * ({@code masterAddr:masterPort}). Read from torchrun's environment variables ({@link #fromEnv}), which the
 * {@link WorkerLauncher} sets for the workers it starts and torchrun, a Slurm wrapper or Kubernetes set for theirs.
 */
public record World(int rank, int localRank, int size, int localSize, String masterAddr, int masterPort,
    int agentStoreAttempt) {
  /** One process, no rendezvous: plain training. */
  public static final World SINGLE = new World(0, 0, 1, 1, null, 0);

  /**
   * {@code agentStoreAttempt}: -1 when rank 0 hosts the rendezvous store; N when the launcher's agent hosts it
   * (torchrun's static rendezvous: {@code TORCHELASTIC_USE_AGENT_STORE=True}), N being its
   * {@code TORCHELASTIC_RESTART_COUNT}: every rank is then a client and the keys go under {@code /worker/attempt_N},
   * as torch's {@code env://} rendezvous does.
   */
  public World {
    if (size < 1 || rank < 0 || rank >= size) throw new UserInputException("RANK " + rank + " of WORLD_SIZE " + size);
    if (localSize < 1 || localRank < 0 || localRank >= localSize)
      throw new UserInputException("LOCAL_RANK " + localRank + " of LOCAL_WORLD_SIZE " + localSize);
  }

  /** A world whose rank 0 hosts the rendezvous store (sr4g's launcher, Slurm wrappers, …). */
  public World(int rank, int localRank, int size, int localSize, String masterAddr, int masterPort) {
    this(rank, localRank, size, localSize, masterAddr, masterPort, -1);
  }

  /** Whether this rank starts the rendezvous store's server. */
  public boolean hostsStore() {
    return agentStoreAttempt < 0 && rank == 0;
  }

  /** The prefix of every rendezvous key ("" unless the launcher's agent hosts the store). */
  public String storePrefix() {
    return agentStoreAttempt < 0 ? "" : "/worker/attempt_" + agentStoreAttempt;
  }

  /** More than one process trains. */
  public boolean isDistributed() {
    return size > 1;
  }

  /**
   * The world torchrun's variables describe ({@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK},
   * {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}, and whether its agent hosts the store:
   * {@code TORCHELASTIC_USE_AGENT_STORE}, {@code TORCHELASTIC_RESTART_COUNT}), or empty when {@code RANK} and
   * {@code WORLD_SIZE} are not both set. A malformed value is a user error naming the variable.
   */
  public static Optional<World> fromEnv(Map<String, String> env) {
    if (!env.containsKey("RANK") || !env.containsKey("WORLD_SIZE")) return Optional.empty();
    int rank = intVar(env, "RANK", -1), size = intVar(env, "WORLD_SIZE", -1);
    int localRank = intVar(env, "LOCAL_RANK", rank), localSize = intVar(env, "LOCAL_WORLD_SIZE", size);
    String addr = env.get("MASTER_ADDR");
    int port = intVar(env, "MASTER_PORT", 0);
    if (port < 0 || port > 65535) throw new UserInputException("environment variable MASTER_PORT=" + port + ": not a port");
    int attempt = "True".equals(env.get("TORCHELASTIC_USE_AGENT_STORE")) ? intVar(env, "TORCHELASTIC_RESTART_COUNT", 0) : -1;
    return Optional.of(new World(rank, localRank, size, localSize, addr == null || addr.isBlank() ? null : addr, port,
        attempt));
  }

  private static int intVar(Map<String, String> env, String name, int absent) {
    String v = env.get(name);
    if (v == null) return absent;
    try {
      return Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      throw new UserInputException("environment variable " + name + "=" + v + ": not an integer");
    }
  }

  /** torchrun's variables for this world (what {@link #fromEnv} reads back). */
  public Map<String, String> toEnv() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("RANK", Integer.toString(rank));
    m.put("LOCAL_RANK", Integer.toString(localRank));
    m.put("WORLD_SIZE", Integer.toString(size));
    m.put("LOCAL_WORLD_SIZE", Integer.toString(localSize));
    if (masterAddr != null) m.put("MASTER_ADDR", masterAddr);
    if (masterPort > 0) m.put("MASTER_PORT", Integer.toString(masterPort));
    return m;
  }

  /** {@code tcp://MASTER_ADDR:MASTER_PORT}, the rendezvous rank 0 hosts. */
  public String tcpInit() {
    if (masterAddr == null || masterPort == 0)
      throw new UserInputException("rank " + rank + " of " + size + ": MASTER_ADDR and MASTER_PORT must be set (as"
          + " torchrun sets them), or pass --dist-init file://PATH");
    String host = masterAddr.contains(":") && !masterAddr.startsWith("[") ? "[" + masterAddr + "]" : masterAddr;
    return "tcp://" + host + ":" + masterPort;
  }
}

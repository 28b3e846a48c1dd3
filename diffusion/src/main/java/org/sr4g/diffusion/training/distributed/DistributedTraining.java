package org.sr4g.diffusion.training.distributed;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.training.Checkpoints;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.GradientReducer;
import org.sr4g.torch.ProcessGroup;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TorchException;

/**
 * The trainer's view of data-parallel training: the few points where a step of {@code N} ranks × batch {@code B}
 * differs from one process with batch {@code N·B}, so that both give the same losses and weights (within float32
 * all-reduce rounding). With one process every method is the identity (or does nothing), so the trainer calls them
 * unconditionally and a single-process run is bit-identical to one without them.
 *
 * <ul>
 *   <li><b>Data</b> ({@link #globalPosition}): rank {@code r} reads positions {@code r, r+N, r+2N, …} of the one seeded
 *       stream a single process reads, so global batch {@code k} is stream positions {@code [kNB, (k+1)NB)} — what
 *       torch's {@code DistributedSampler} gives (strided ranks), without its padding: the stream is endless, so no
 *       epoch ends with a rank short of examples.</li>
 *   <li><b>Randomness</b> ({@link #randn}, {@link #timesteps}, {@link #mine}): noise, timesteps and caption dropout are
 *       drawn for the global batch from the step's generators and each rank takes the rows of its examples.</li>
 *   <li><b>Gradients</b> ({@link #attach}, {@link #beforeBackward}, {@link #afterBackward}): rank 0's initial weights
 *       are broadcast, and DDP's {@code c10d::Reducer} averages the gradients during the backward of the last
 *       micro-batch of a step (the others accumulate locally: DDP's {@code no_sync}). Clipping, AdamW and the EMA then
 *       run on every rank on identical averaged gradients.</li>
 *   <li><b>Outputs</b> ({@link #writes}, {@link #mean}, {@link #cursors}, {@link #barrier}): only rank 0 writes;
 *       the reported loss is the mean over ranks; checkpoints record every rank's data cursor.</li>
 *   <li><b>Failures</b> ({@link #explain}): a collective that fails or times out becomes a {@link DistributedFailure}
 *       naming the rank that is missing or gone, from what the rendezvous store knows.</li>
 * </ul>
 *
 * Owned by one training run (one thread); closing it closes the reducer and leaves the group.
 */
public final class DistributedTraining implements AutoCloseable {
  private final World world;
  private final DistributedOptions options;
  private final Device device;
  private ProcessGroup group;
  private GradientReducer reducer;
  private long step;
  private long collectives;
  private String current = "joining";

  private DistributedTraining(DistributedOptions options, Device device) {
    this.world = options.world();
    this.options = options;
    this.device = device;
  }

  /**
   * The run {@code d} describes, on {@code device} (this rank's own GPU with CUDA). Nothing is joined yet: each rank
   * first reads its options, data and model, so a user mistake is reported by every rank without a rendezvous; the
   * group is joined by {@link #attach}. Checks here that the backend is in this build (Gloo for the CPU, NCCL for CUDA).
   */
  public static DistributedTraining open(DistributedOptions d, Device device) {
    if (d.world().isDistributed()) {
      ProcessGroup.unavailableReason(ProcessGroup.Backend.forDevice(device)).ifPresent(why -> {
        throw new UserInputException("distributed training on " + device + ": " + why);
      });
      d.rendezvous(); // no rendezvous address (MASTER_ADDR/MASTER_PORT or --dist-init): a user error now, not later
    }
    return new DistributedTraining(d, device);
  }

  /** Joins the group (a rank that does not join within the timeout is named) and leaves this rank's address. */
  private void join() {
    current = "joining";
    try {
      group = ProcessGroup.join(options.rendezvous(), world.rank(), world.size(),
          ProcessGroup.Backend.forDevice(device), device, options.timeout(), world.hostsStore(), world.storePrefix());
    } catch (TorchException e) {
      throw new DistributedFailure(firstLine(e.getMessage()), e);
    }
    try {
      group.storeSet(hostKey(world.rank()), host() + " " + ProcessHandle.current().pid());
    } catch (RuntimeException e) {
      throw explain(e);
    }
  }

  public World world() {
    return world;
  }

  public int rank() {
    return world.rank();
  }

  public int size() {
    return world.size();
  }

  /** Only rank 0 writes checkpoints, metrics, validation grids and the final model. */
  public boolean writes() {
    return world.rank() == 0;
  }

  // ---- data and randomness ----------------------------------------------------------------------------------------

  /** The stream position of this rank's {@code local}-th example: {@code local·N + rank}. */
  public long globalPosition(long local) {
    return globalPosition(local, world.rank(), world.size());
  }

  static long globalPosition(long local, int rank, int size) {
    return local * size + rank;
  }

  /** The first local position of {@code rank} at or after stream position {@code global}. */
  static long localStart(long global, int rank, int size) {
    return Math.max(0, Math.ceilDiv(global - rank, size));
  }

  /** Examples per micro-batch over all ranks. */
  public int globalBatch(int perRank) {
    return perRank * world.size();
  }

  /**
   * Standard normal noise for this rank's examples: {@code localShape} with its first dimension multiplied by
   * {@code N} is drawn from {@code gen} (as one process with the global batch draws it) and this rank's rows
   * {@code rank, rank+N, …} are returned (contiguous). One process: exactly {@code Tensor.randn(gen, F32, localShape)}.
   */
  public Tensor randn(Generator gen, long... localShape) {
    if (world.size() == 1) return Tensor.randn(gen, DType.F32, localShape);
    long[] global = localShape.clone();
    global[0] *= world.size();
    return Tensor.randn(gen, DType.F32, global).slice(0, world.rank(), global[0], world.size()).contiguous();
  }

  /** {@code b} timesteps uniform in {@code [0, T)}: drawn for the global batch from {@code r}, this rank's taken. */
  public long[] timesteps(SplittableRandom r, int t, int b) {
    long[] all = new long[globalBatch(b)];
    for (int i = 0; i < all.length; i++) all[i] = r.nextInt(t);
    long[] mine = new long[b];
    for (int j = 0; j < b; j++) mine[j] = all[world.rank() + world.size() * j];
    return mine;
  }

  /** This rank's entries {@code rank, rank+N, …} of a per-example array drawn for the global batch. */
  public boolean[] mine(boolean[] global) {
    if (global.length % world.size() != 0)
      throw new IllegalArgumentException(global.length + " values for " + world.size() + " ranks");
    boolean[] m = new boolean[global.length / world.size()];
    for (int j = 0; j < m.length; j++) m[j] = global[world.rank() + world.size() * j];
    return m;
  }

  // ---- gradients --------------------------------------------------------------------------------------------------

  /**
   * Joins the group, makes every rank start from rank 0's weights (DDP's initial sync; also after a resume, which every
   * rank loaded from the same checkpoint) and puts DDP's Reducer on {@code trainable}; the Reducer first checks that
   * all ranks have the same parameter shapes.
   */
  public void attach(List<Tensor> trainable) {
    if (!world.isDistributed()) return;
    join();
    collective("parameter check", () -> {
      if (options.syncGradients() && !trainable.isEmpty()) reducer = new GradientReducer(group, trainable);
    });
    collective("initial weight broadcast", () -> group.broadcast(trainable, 0));
  }

  /** Before a micro-batch's backward: the last one of a step ({@code sync}) averages the gradients during it. */
  public void beforeBackward(boolean sync) {
    if (reducer == null || !sync) return;
    collective("gradient all-reduce", reducer::prepare);
  }

  /** After a micro-batch's backward: checks that the averaging of a synchronised one finished. */
  public void afterBackward(boolean sync) {
    if (reducer == null || !sync) return;
    reducer.check();
  }

  // ---- metrics, cursors, barriers ---------------------------------------------------------------------------------

  /** The mean over the ranks of {@code v} (the loss of the step); {@code v} itself with one process. */
  public double mean(double v) {
    if (!world.isDistributed()) return v;
    double[] a = {v};
    collective("loss all-reduce", () -> joined().allReduceSum(a));
    return a[0] / world.size();
  }

  /** Every rank's data cursor, indexed by rank. */
  public long[] cursors(long local) {
    if (!world.isDistributed()) return new long[] {local};
    long[] a = new long[world.size()];
    a[world.rank()] = local;
    collective("data cursor exchange", () -> joined().allReduceSum(a));
    return a;
  }

  /** Waits for every rank (after rank 0 wrote a checkpoint or the model). */
  public void barrier(String what) {
    if (!world.isDistributed()) return;
    collective(what, () -> joined().barrier());
  }

  /** Marks the start of optimizer step {@code s} (for failure messages). */
  public void beginStep(long s) {
    step = s;
  }

  private ProcessGroup joined() {
    if (group == null) throw new IllegalStateException("a collective before attach(): the group is not joined yet");
    return group;
  }

  // ---- resume -----------------------------------------------------------------------------------------------------

  /**
   * Refuses a checkpoint written by another number of ranks unless the global batch is the same, with a message that
   * says what would work; same world size, or the same global batch: fine (the fixed options compare the global
   * batch).
   */
  public void checkResume(Path ckpt, Checkpoints.State s, int batchSize) {
    int theirs = s.worldSize();
    if (theirs == world.size()) return;
    long theirGlobal = s.fixedOptions().path("batch_size").asLong(-1);
    if (theirGlobal == globalBatch(batchSize)) return;
    String hint = theirGlobal > 0 && theirGlobal % world.size() == 0
        ? "resume with --batch-size " + theirGlobal / world.size() + " on " + world.size() + " rank(s)"
        : "resume with a number of ranks that divides " + theirGlobal;
    throw new UserInputException("--resume " + ckpt + ": the checkpoint was written by " + theirs + " rank(s) with a"
        + " global batch of " + theirGlobal + "; this run has " + world.size() + " rank(s) × --batch-size " + batchSize
        + " = " + globalBatch(batchSize) + ". Another world size needs the same global batch: " + hint);
  }

  /**
   * Where this rank's data cursor resumes: its own cursor when the world size is unchanged; otherwise the first
   * position of this rank at or after the checkpoint's global position (which equals an uninterrupted run of the new
   * world size when the ranks skipped no unreadable images).
   */
  public long resumePosition(Checkpoints.State s) {
    long[] theirs = s.rankPositions();
    if (s.worldSize() == world.size() && theirs != null && theirs.length == world.size()) return theirs[world.rank()];
    if (s.worldSize() == world.size() && world.size() == 1) return s.dataPosition();
    return localStart(s.dataPosition(), world.rank(), world.size());
  }

  /**
   * The stream position a checkpoint records: the first global position no rank has reached yet ({@code N} × the
   * largest cursor), the cursor itself for one process.
   */
  public static long globalCursor(long[] rankPositions) {
    return Arrays.stream(rankPositions).max().orElse(0) * rankPositions.length;
  }

  // ---- failures ---------------------------------------------------------------------------------------------------

  private void collective(String what, Runnable r) {
    current = what;
    collectives++;
    if (group != null) {
      try {
        group.storeSet(progressKey(world.rank()), collectives + " " + step + " " + what);
      } catch (RuntimeException e) {
        throw explain(e);
      }
    }
    r.run();
  }

  /**
   * {@code e} as a {@link DistributedFailure} when it comes from the group (a collective failed or timed out, the store
   * is gone): the message says which rank is missing, using the progress marks every rank leaves in the rendezvous
   * store before each collective, and which ranks on this machine are no longer alive. User errors, and everything in a
   * single-process run, pass through unchanged.
   */
  public RuntimeException explain(RuntimeException e) {
    if (group == null || e instanceof UserInputException || e instanceof DistributedFailure) return e;
    if (!(e instanceof TorchException)) return e;
    String cause = firstLine(e.getMessage());
    boolean timedOut = cause.toLowerCase(java.util.Locale.ROOT).contains("timed out")
        || cause.toLowerCase(java.util.Locale.ROOT).contains("timeout");
    String what = timedOut ? current + " timed out after --dist-timeout " + group.timeout().toSeconds() + " s"
        : current + " failed";
    return new DistributedFailure("rank " + world.rank() + " at step " + step + ": " + what + " (" + cause + "); "
        + diagnose(), e);
  }

  private String diagnose() {
    List<String> gone = new ArrayList<>(), behind = new ArrayList<>();
    String me = host();
    try {
      for (int r = 0; r < world.size(); r++) {
        if (r == world.rank()) continue;
        Optional<String> h = group.storeGet(hostKey(r));
        if (h.isPresent()) {
          String[] hp = h.get().split(" ");
          if (hp.length == 2 && hp[0].equals(me)) {
            long pid = Long.parseLong(hp[1]);
            if (ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
              gone.add("rank " + r + " (pid " + pid + ") is gone");
              continue;
            }
          }
        }
        String p = group.storeGet(progressKey(r)).orElse("0 0 nothing yet");
        String[] f = p.split(" ", 3);
        long theirs = Long.parseLong(f[0]);
        if (theirs < collectives)
          behind.add("rank " + r + " has not reached it (its last: " + f[2] + " at step " + f[1] + ")");
      }
    } catch (RuntimeException storeDown) {
      return world.rank() == 0 ? "the rendezvous store does not answer (" + firstLine(storeDown.getMessage()) + ")"
          : "rank 0, which hosts the rendezvous store, is gone (" + firstLine(storeDown.getMessage()) + ")";
    }
    List<String> all = new ArrayList<>(gone);
    all.addAll(behind);
    return all.isEmpty() ? "every other rank reached the same point (a rank on another machine may have failed there)"
        : String.join("; ", all);
  }

  private static String progressKey(int rank) {
    return "sr4g/progress/" + rank;
  }

  private static String hostKey(int rank) {
    return "sr4g/host/" + rank;
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName().replace(' ', '_');
    } catch (Exception e) {
      return "?";
    }
  }

  static String firstLine(String m) {
    if (m == null) return "?";
    String s = m.strip();
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  @Override
  public void close() {
    try {
      if (reducer != null) reducer.close();
    } finally {
      reducer = null;
      if (group != null) group.close();
    }
  }
}

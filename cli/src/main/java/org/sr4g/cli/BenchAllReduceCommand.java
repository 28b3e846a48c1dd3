package org.sr4g.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.training.TrainBench;
import org.sr4g.diffusion.training.distributed.WorkerLauncher;
import org.sr4g.diffusion.training.distributed.World;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.GradientReducer;
import org.sr4g.torch.ProcessGroup;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sr4g bench allreduce --nproc-per-node N --mib M}: how long averaging M MiB of float32 gradients over N
 * processes takes — the collective DDP runs every step, here alone (DDP's buckets, Gloo on the CPU, NCCL on CUDA).
 * The reference users would reach for instead is {@code scripts/reference_allreduce.py} (torch.distributed, the same
 * libtorch).
 */
@Command(name = "allreduce", mixinStandardHelpOptions = true, sortOptions = false,
    header = "Time the gradient all-reduce of data-parallel training between N processes on this machine.",
    description = "Each of --nproc-per-node worker processes holds a float32 gradient of --mib MiB; after a barrier the"
        + " gradients are averaged (DDP's 1 MiB + 25 MiB buckets: a larger tensor is one bucket), --repeats times after"
        + " --warmup. Prints the median time and the algorithm bandwidth (bytes / time).")
final class BenchAllReduceCommand implements Callable<Integer> {
  /** The line rank 0 prints: this prefix, then the median milliseconds. */
  static final String RESULT = "allreduce-ms ";
  @Spec CommandSpec spec;

  @Option(names = "--mib", defaultValue = "38.15", paramLabel = "M",
      description = "gradient size in MiB (default: ${DEFAULT-VALUE} = 10M floats)") double mib;
  @Option(names = "--repeats", defaultValue = "20", paramLabel = "K", description = "timed all-reduces (default: ${DEFAULT-VALUE})")
  int repeats;
  @Option(names = "--warmup", defaultValue = "3", paramLabel = "N", description = "default: ${DEFAULT-VALUE}") int warmup;
  @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV", description = "cpu or cuda (default: ${DEFAULT-VALUE})")
  String device;
  @Mixin DistributedMixin dist;

  @Override
  public Integer call() {
    if (!(mib > 0) || repeats < 1 || warmup < 0) throw new UserInputException("--mib and --repeats must be positive");
    Optional<World> worker = DistributedMixin.worker();
    if (dist.launches(worker)) return dist.launch(spec, spec.commandLine().getOut()::println);
    if (worker.isEmpty() || !worker.get().isDistributed())
      throw new UserInputException("bench allreduce needs several processes: --nproc-per-node N (N >= 2)");
    WorkerLauncher.watchLauncher(System.getenv());
    String dev = DistributedMixin.workerDevice(device, worker.get());
    long n = (long) (mib * 1048576 / 4);
    double[] ms = new double[repeats];
    try (ProcessGroup g = DistributedBench.join(dist, worker, dev); TensorScope s = TensorScope.open()) {
      Tensor p = Tensor.zeros(DType.F32, Device.forUser(dev), n).requiresGrad(true);
      p.sum().backward(); // a gradient of ones, as a parameter has after a backward
      for (int k = -warmup; k < repeats; k++) {
        g.barrier();
        long t0 = System.nanoTime();
        g.averageGradients(List.of(p), GradientReducer.FIRST_BUCKET_BYTES, GradientReducer.BUCKET_BYTES);
        if (p.device().isCuda()) org.sr4g.torch.Torch.cudaSynchronize(p.device().code());
        if (k >= 0) ms[k] = (System.nanoTime() - t0) / 1e6;
      }
    }
    if (worker.get().rank() != 0) return 0;
    double med = TrainBench.median(ms);
    PrintWriter w = spec.commandLine().getOut();
    w.println(String.format(Locale.ROOT, "bench allreduce: %d processes, %.2f MiB float32 (%,d values), device %s:"
        + " median %.2f ms over %d, %.2f GB/s (bytes / time)", worker.get().size(), mib, n, dev, med, repeats,
        4.0 * n / med / 1e6));
    w.println(RESULT + med);
    w.flush();
    return 0;
  }
}

package org.sr4g.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.Optional;
import org.sr4g.diffusion.models.BuiltInUNets;
import org.sr4g.diffusion.training.TrainBench;
import org.sr4g.diffusion.training.distributed.WorkerLauncher;
import org.sr4g.diffusion.training.distributed.World;
import org.sr4g.torch.ProcessGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sr4g bench}: performance measurements, one subcommand per question (infer: UNet denoising; train: steps). */
@Command(name = "bench", mixinStandardHelpOptions = true,
    header = "Measure performance: sr4g bench infer (UNet denoising steps), sr4g bench train (training steps),"
        + " sr4g bench sample (whole images, batched against one at a time), sr4g bench detect (OWL-ViT detection),"
        + " sr4g bench allreduce (the gradient all-reduce of data-parallel training). They share their options and"
        + " defaults and print the settings each run used.",
    subcommands = {BenchInferCommand.class, BenchCommand.Train.class, BenchSampleCommand.class,
        BenchDetectCommand.class, BenchAllReduceCommand.class})
final class BenchCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code sr4g bench train}: UNet optimizer-step throughput on a random-initialised UNet (docs/training.md). */
  @Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
      header = "Time UNet training steps (forward, backward, clipping, AdamW) on a random-initialised UNet.",
      description = "Random latents, timesteps and text context (no data loading, VAE or text encoder). Prints the"
          + " median step time, images/s and the peak resident memory of the process (VmHWM; on CUDA this is host"
          + " memory, and the CUDA caching allocator's peak is printed too). Run once with and once without"
          + " --gradient-checkpointing to compare (the peak of a process never goes down). With --nproc-per-node N:"
          + " one-process and N-process runs (DistributedDataParallel steps: DDP's Reducer over Gloo on the CPU, NCCL on"
          + " CUDA), each in fresh worker JVMs, alternated --repeats times; prints the step times, images/s over all"
          + " processes, the scaling efficiency against one process and the all-reduce time of the gradients per step.")
  static final class Train implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin BenchOptions bench;
    @Option(names = "--mixed-precision", defaultValue = "no", paramLabel = "no|bf16|fp16",
        description = "autocast forward and loss; fp16 (CUDA) adds loss scaling (default: ${DEFAULT-VALUE})")
    String mixedPrecision;
    @Option(names = "--gradient-checkpointing", description = "recompute the UNet's blocks in the backward (sr4g train"
        + " --gradient-checkpointing)") boolean gradientCheckpointing;
    @Option(names = "--repeats", defaultValue = "1", paramLabel = "K",
        description = "with --nproc-per-node: alternate K one-process and K N-process runs (default: ${DEFAULT-VALUE})")
    int repeats;
    @Mixin DistributedMixin dist;

    @Override
    public Integer call() {
      Optional<World> worker = DistributedMixin.worker();
      if (dist.launches(worker)) return new DistributedBench(this).compare();
      worker.ifPresent(w -> WorkerLauncher.watchLauncher(System.getenv()));
      String dev = worker.map(w -> DistributedMixin.workerDevice(bench.device.text, w)).orElse(bench.device.text);
      int res = bench.resolve(BuiltInUNets.defaultResolution(bench.shape));
      PrintWriter w = spec.commandLine().getOut();
      if (worker.isEmpty() || worker.get().rank() == 0)
        w.println(bench.describe("shape " + bench.shape + " (random weights), mixed precision " + mixedPrecision
            + ", gradient checkpointing " + (gradientCheckpointing ? "on" : "off"), res));
      w.flush();
      TrainBench.Result r;
      try (ProcessGroup group = DistributedBench.join(dist, worker, dev)) {
        r = TrainBench.run(bench.shape, bench.batch, res, bench.steps, bench.warmup, dev, bench.seed, mixedPrecision,
            gradientCheckpointing, group);
      }
      if (worker.isPresent() && worker.get().rank() != 0) return 0;
      StringBuilder all = new StringBuilder();
      for (double d : r.stepMs()) all.append(all.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.1f", d));
      w.println(String.format(Locale.ROOT, "bench train: shape %s (%,d parameters), batch %d, res %d, device %s,"
          + " mixed precision %s, %d warm-up + %d timed steps, gradient checkpointing %s", bench.shape, r.parameters(),
          bench.batch, res, bench.device, mixedPrecision, r.warmup(), r.stepMs().length,
          r.gradientCheckpointing() ? "on" : "off"));
      w.println("step ms: " + all);
      StringBuilder cpu = new StringBuilder();
      for (double d : r.stepCpuMs()) cpu.append(cpu.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.1f", d));
      w.println("step cpu ms: " + cpu + String.format(Locale.ROOT, "  (median %.1f: this thread's CPU time)",
          TrainBench.median(r.stepCpuMs())));
      w.println(String.format(Locale.ROOT, "median step %.1f ms  %.2f images/s  peak RSS %.1f MiB", r.medianMs(),
          r.imagesPerSecond(), r.peakRssKb() / 1024.0)
          + String.format(Locale.ROOT, "  (RSS before the first step %.1f MiB)", r.rssBeforeKb() / 1024.0)
          + (r.cudaPeakBytes() >= 0 ? String.format(Locale.ROOT, "  CUDA peak %.1f MiB", r.cudaPeakBytes() / 1048576.0) : ""));
      if (r.worldSize() > 1)
        w.println(String.format(Locale.ROOT, "%d processes: all-reduce of the gradients (%.1f MiB) %.2f ms per step, %.2f GB/s",
            r.worldSize(), r.gradientBytes() / 1048576.0, r.allReduceMs(), r.gradientBytes() / r.allReduceMs() / 1e6));
      w.println("first step / median: " + BenchOptions.firstOverMedian(r.stepMs(), r.medianMs()));
      if (worker.isPresent()) w.println(DistributedBench.RESULT + DistributedBench.json(r)); // for the launcher
      w.flush();
      return 0;
    }
  }
}

package org.sr4g.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sr4g.diffusion.models.BuiltInUNets;
import org.sr4g.diffusion.training.TrainBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sr4g bench}: performance measurements, one subcommand per question (infer: UNet denoising; train: steps). */
@Command(name = "bench", mixinStandardHelpOptions = true,
    header = "Measure performance: sr4g bench infer (UNet denoising steps), sr4g bench train (training steps),"
        + " sr4g bench sample (whole images, batched against one at a time). They share their options and defaults"
        + " and print the settings each run used.",
    subcommands = {BenchInferCommand.class, BenchCommand.Train.class, BenchSampleCommand.class})
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
          + " --gradient-checkpointing to compare (the peak of a process never goes down).")
  static final class Train implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin BenchOptions bench;
    @Option(names = "--mixed-precision", defaultValue = "no", paramLabel = "no|bf16|fp16",
        description = "autocast forward and loss; fp16 (CUDA) adds loss scaling (default: ${DEFAULT-VALUE})")
    String mixedPrecision;
    @Option(names = "--gradient-checkpointing", description = "recompute the UNet's blocks in the backward (sr4g train"
        + " --gradient-checkpointing)") boolean gradientCheckpointing;

    @Override
    public Integer call() {
      int res = bench.resolve(BuiltInUNets.defaultResolution(bench.shape));
      PrintWriter w = spec.commandLine().getOut();
      w.println(bench.describe("shape " + bench.shape + " (random weights), mixed precision " + mixedPrecision
          + ", gradient checkpointing " + (gradientCheckpointing ? "on" : "off"), res));
      w.flush();
      TrainBench.Result r = TrainBench.run(bench.shape, bench.batch, res, bench.steps, bench.warmup, bench.device,
          bench.seed, mixedPrecision, gradientCheckpointing);
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
      w.println("first step / median: " + BenchOptions.firstOverMedian(r.stepMs(), r.medianMs()));
      w.flush();
      return 0;
    }
  }
}

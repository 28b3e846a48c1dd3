package org.sr4g.diffusion.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.BuiltInUNets;
import org.sr4g.diffusion.models.RandomWeights;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.torch.AdamW;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Generator;
import org.sr4g.torch.GradientReducer;
import org.sr4g.torch.ProcessGroup;
import org.sr4g.torch.GradScaler;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Device;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/**
 * {@code sr4g bench train}: the time of one UNet optimizer step (forward, MSE against random noise, backward, global
 * norm clipping, AdamW) on a randomly initialised UNet of a fixed shape, with random latents, timesteps and text
 * context — no data loading, no VAE or text encoder. Reports the median step time, images/s and the process's peak
 * resident memory (VmHWM from /proc/self/status: JVM heap and libtorch together), and on CUDA the peak of libtorch's
 * caching allocator. With gradient checkpointing the backward recomputes the UNet's blocks
 * ({@link UNet2DConditionModel#backward}); VmHWM never goes down in a process, so compare the two modes in two runs.
 */
public final class TrainBench {
  /**
   * {@code rssBeforeKb}: VmRSS once the model is loaded, before the first step; {@code cudaPeakBytes}: the CUDA caching
   * allocator's peak on the device (-1 on the CPU). Data-parallel ({@code worldSize} > 1): {@code batch} is per
   * process, {@code imagesPerSecond} counts every process's images, and {@code allReduceMs} is the median time of
   * averaging all gradients over the processes in DDP's buckets, alone (0 for one process).
   */
  public record Result(String shape, int batch, int resolution, String device, boolean gradientCheckpointing,
      long parameters, int warmup, double[] stepMs, double[] stepCpuMs, double medianMs, double imagesPerSecond,
      long peakRssKb, long rssBeforeKb, long cudaPeakBytes, int worldSize, double allReduceMs) {
    /** The gradients one all-reduce moves (float32). */
    public long gradientBytes() {
      return 4 * parameters;
    }
  }

  private TrainBench() {}

  /**
   * {@code mixedPrecision}: {@code no}, {@code bf16} or {@code fp16} ({@link MixedPrecision}: forward and loss under
   * autocast, float32 weights and AdamW; fp16 adds the GradScaler's scale/unscale/inf check and needs CUDA);
   * {@code gradientCheckpointing}: the UNet's layers are recomputed in the backward ({@code UNet2DConditionModel.backward}).
   */
  public static Result run(String shape, int batch, int res, int steps, int warmup, String device, long seed,
      String mixedPrecision, boolean gradientCheckpointing) {
    return run(shape, batch, res, steps, warmup, device, seed, mixedPrecision, gradientCheckpointing, null);
  }

  /**
   * With a {@code group} of several processes, each step is a DistributedDataParallel step: rank 0's initial weights
   * broadcast, DDP's Reducer averaging the gradients during the backward (each rank draws its own random batch); after
   * the timed steps, the gradient all-reduce alone is timed {@code steps} times ({@link ProcessGroup#averageGradients}).
   */
  public static Result run(String shape, int batch, int res, int steps, int warmup, String device, long seed,
      String mixedPrecision, boolean gradientCheckpointing, ProcessGroup group) {
    if (batch < 1 || steps < 1 || warmup < 0) throw new UserInputException("--batch and --steps must be at least 1, --warmup >= 0");
    Device dev = Device.forUser(device);
    MixedPrecision mp = MixedPrecision.parse(mixedPrecision, dev);
    GradScaler scaler = mp.newScaler();
    UNetConfig config = BuiltInUNets.config(shape);
    int vaeFactor = BuiltInUNets.vaeFactor(shape);
    int multiple = vaeFactor << (config.blockOutChannels().size() - 1);
    if (res < multiple || res % multiple != 0)
      throw new UserInputException("--res " + res + " must be a positive multiple of " + multiple + " for --shape " + shape);
    int lat = res / vaeFactor;
    // Seeded random weights (values do not change step time); the same initialisation as `sr4g bench infer`.
    int rank = group != null ? group.rank() : 0, world = group != null ? group.size() : 1;
    // The same weights everywhere (seed), each rank's own random batches (seed + rank).
    try (Generator gen = new Generator(Device.CPU, seed + rank);
        RandomWeights weights = new RandomWeights(UNet2DConditionModel.LOADER.parameterShapes(config), seed);
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(config, weights, dev);
        AdamW opt = new AdamW(unet.params().list(), 1e-5, 0.9, 0.999, 1e-8, 1e-2);
        GradientReducer reducer = group != null ? new GradientReducer(group, unet.params().list()) : null) {
      if (group != null) group.broadcast(unet.params().list(), 0);
      unet.setGradientCheckpointing(gradientCheckpointing);
      long rssBefore = procStatusKb("VmRSS:");
      long params = unet.params().numel();
      SplittableRandom r = new SplittableRandom(seed + rank);
      double[] ms = new double[steps], cpu = new double[steps];
      for (int s = -warmup; s < steps; s++) {
        long t0 = System.nanoTime(), c0 = threadCpuNanos();
        unet.params().zeroGrad();
        try (TensorScope scope = TensorScope.open()) {
          Tensor x = Tensor.randn(gen, DType.F32, batch, config.inChannels(), lat, lat).to(dev);
          Tensor noise = Tensor.randn(gen, DType.F32, batch, config.outChannels(), lat, lat).to(dev);
          Tensor ctx = Tensor.randn(gen, DType.F32, batch, BuiltInUNets.TEXT_TOKENS, config.crossAttentionDim()).to(dev);
          long[] ts = new long[batch];
          for (int i = 0; i < batch; i++) ts[i] = r.nextInt(1000);
          Tensor loss;
          try (ModeGuard ac = mp.autocast(dev)) {
            Tensor pred = unet.forward(x, Tensor.of(ts, batch).to(dev), ctx);
            loss = Nn.mseLoss(mp == MixedPrecision.NO ? pred : pred.to(DType.F32), noise);
          }
          // loss.backward(), plus the layers' recompute (under the forward's autocast) with gradient checkpointing; with
          // several processes DDP's Reducer all-reduces the gradients during it
          if (reducer != null) reducer.prepare();
          unet.backward(scaler != null ? scaler.scale(loss) : loss);
          if (reducer != null) reducer.check();
          if (scaler != null) scaler.unscale(unet.params().list());
          Autograd.clipGradNorm(unet.params().list(), 1.0);
          if (scaler != null) {
            scaler.step(opt);
            scaler.update();
          } else {
            opt.step();
          }
          loss.item(); // waits for the device
        }
        if (s >= 0) {
          ms[s] = (System.nanoTime() - t0) / 1e6;
          cpu[s] = (threadCpuNanos() - c0) / 1e6;
        }
      }
      double median = median(ms);
      double allReduce = 0;
      if (group != null) {
        double[] ar = new double[steps];
        for (int s = -1; s < steps; s++) { // one untimed call allocates the flat bucket buffers
          group.barrier(); // start together: time the exchange, not a rank's late arrival
          long t0 = System.nanoTime();
          group.averageGradients(unet.params().list(), GradientReducer.FIRST_BUCKET_BYTES, GradientReducer.BUCKET_BYTES);
          if (dev.isCuda()) Torch.cudaSynchronize(dev.code());
          if (s >= 0) ar[s] = (System.nanoTime() - t0) / 1e6;
        }
        allReduce = median(ar);
      }
      long cudaPeak = dev.isCuda() ? Torch.cudaMemory(dev.code())[1] : -1;
      return new Result(shape, batch, res, device, gradientCheckpointing, params, warmup, ms, cpu, median,
          world * batch * 1000.0 / median, peakRssKb(), rssBefore, cudaPeak, world, allReduce);
    }
  }

  /**
   * CPU time of this thread in ns: with libtorch on one CPU thread (Debian's 1.13 here) the ops run on the calling
   * thread, so a step's CPU time is its work without the time other processes took from it — the figure to compare on
   * a shared machine, next to the wall time.
   */
  public static long threadCpuNanos() {
    return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
  }

  /** The median of {@code v} (the mean of the middle two for an even count); {@code v} is not changed. */
  public static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** VmHWM of this process in KiB, or -1 where /proc is absent. */
  public static long peakRssKb() {
    return procStatusKb("VmHWM:");
  }

  /** A field of /proc/self/status in KiB, or -1 where /proc is absent. */
  public static long procStatusKb(String field) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status")))
        if (l.startsWith(field)) return Long.parseLong(l.replaceAll("[^0-9]", ""));
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }
}

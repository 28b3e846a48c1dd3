package org.sr4g.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.ModelSources;
import org.sr4g.diffusion.Precision;
import org.sr4g.diffusion.models.BuiltInUNets;
import org.sr4g.diffusion.models.RandomWeights;
import org.sr4g.diffusion.models.WeightsFile;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.training.TrainBench;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sr4g bench infer}: times the UNet denoising loop of text-to-image sampling, the part that dominates it: N steps
 * of the UNet on the classifier-free-guidance batch (2B: unconditional and conditional) of random latents
 * [2B, 4, R/f, R/f] (f the VAE factor) and random text embeddings [2B, 77, cross_attention_dim], then the guidance mix and a plain Euler-like
 * update. Text encoder, VAE and scheduler are not timed.
 */
@Command(
    name = "infer",
    mixinStandardHelpOptions = true,
    header = "Time UNet denoising steps (median step time, images/s, peak memory) for a model folder or a built-in"
        + " SD 1.5 / 2.1 / tiny config with random weights.",
    description = "Builds the UNet from --model DIR (its unet/ weights) or from --shape (the exact SD 1.5 / SD 2.1 UNet"
        + " config, or the tiny test config, randomly initialised from --seed: no checkpoint needed), runs --warmup"
        + " untimed and --steps timed denoising steps with classifier-free guidance (UNet batch 2B) on random latents of"
        + " --res / VAE factor and random text embeddings, and prints the settings used, the median UNet step time, the"
        + " first timed step over the median, images/s = B / (steps x median) and peak memory (CUDA caching-allocator"
        + " peak on a GPU; the process's peak RSS, VmHWM, on the CPU). The UNet is made inference-only as sr4g sample"
        + " makes it (conv weights packed once for oneDNN on the CPU; --conv-packing off keeps the dense ones).",
    footer = {
      "",
      "Examples:",
      "  sr4g bench infer --shape sd15 --batch 4 --res 512 --steps 20 \\",
      "      --device cuda --dtype f16",
      "  sr4g bench infer --shape sd15 --res 64 --steps 5",
      "  sr4g bench infer --shape tiny --device cpu --steps 2",
      "  sr4g bench infer --model sd-v1-5 --res 512 --steps 10 \\",
      "      --device cuda:1 --dtype bf16"
    })
final class BenchInferCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin BenchOptions bench;
  @Option(names = "--model", paramLabel = "MODEL", description = "diffusers folder or Hugging Face id (its unet/ is"
      + " benchmarked) instead of --shape") String model;
  @Option(names = "--variant", paramLabel = "NAME", description = "weights variant with --model, e.g. fp16") String variant;
  @Option(names = "--dtype", defaultValue = "f32", paramLabel = "T", converter = WeightType.Converter.class,
      description = "f32, f16 (CUDA only) or bf16 (CUDA; CPU where libtorch supports it) (default: ${DEFAULT-VALUE})")
  WeightType dtype;

  enum Switch { on, off }

  @Option(names = "--conv-packing", defaultValue = "on", paramLabel = "on|off",
      description = "pack the conv weights once for oneDNN (CPU), as sr4g sample does (default: ${DEFAULT-VALUE})")
  Switch convPacking;

  @Override
  public Integer call() throws IOException {
    if (model != null && spec.commandLine().getParseResult().hasMatchedOption("--shape"))
      throw new UserInputException("give --model or --shape, not both");
    Device dev = bench.device.device();
    DType dt = dtype.dtype();
    Precision.require(dt, dev);

    String what;
    UNetConfig config;
    int vaeFactor, defaultRes;
    if (model != null) {
      ModelFolder folder = ModelFolder.open(ModelSources.folder(model, "--model"), variant);
      config = folder.unetConfig();
      vaeFactor = 1 << (folder.vaeConfig().blockOutChannels().size() - 1);
      defaultRes = folder.defaultResolution();
      what = "model " + model;
    } else {
      config = BuiltInUNets.config(bench.shape);
      vaeFactor = BuiltInUNets.vaeFactor(bench.shape);
      defaultRes = BuiltInUNets.defaultResolution(bench.shape);
      what = "shape " + bench.shape + " (random weights, seed " + bench.seed + ")";
    }
    int res = bench.resolve(defaultRes);
    int multiple = vaeFactor << (config.blockOutChannels().size() - 1);
    if (res < multiple || res % multiple != 0)
      throw new UserInputException("--res " + res + " must be a positive multiple of " + multiple + " for this UNet"
          + " (VAE factor " + vaeFactor + " x UNet downsampling " + (multiple / vaeFactor) + ")");
    int latent = res / vaeFactor, batch = bench.batch, steps = bench.steps, warmup = bench.warmup;

    PrintWriter o = spec.commandLine().getOut();
    o.println(bench.describe(what + ", dtype " + Precision.name(dt) + ", conv packing " + convPacking, res));
    long t0 = System.nanoTime();
    UNet2DConditionModel unet;
    if (model != null) {
      try (WeightsFile w = WeightsFile.open(ModelFolder.open(ModelSources.folder(model, "--model"), variant).unetWeights())) {
        unet = UNet2DConditionModel.LOADER.load(config, w, dev, dt);
      }
    } else {
      Map<String, long[]> shapes = UNet2DConditionModel.LOADER.parameterShapes(config);
      try (RandomWeights w = new RandomWeights(shapes, bench.seed)) {
        unet = UNet2DConditionModel.LOADER.load(config, w, dev, dt);
      }
    }
    String packing = convPacking == Switch.on ? unet.packForInference().toString() : "off";
    double loadS = (System.nanoTime() - t0) / 1e9;
    long params = unet.params().numel();
    o.printf(Locale.ROOT, "bench infer: %s, device %s, dtype %s, batch %d (UNet batch %d), res %d (latents %dx%d),"
        + " %d steps + %d warm-up%n", what, dev, Precision.name(dt), batch, 2 * batch, res, latent, latent, steps, warmup);
    o.printf(Locale.ROOT, "unet_parameters: %d%n", params);
    o.printf(Locale.ROOT, "load_s: %.2f%n", loadS);
    o.printf(Locale.ROOT, "conv_packing: %s%n", packing);
    o.printf(Locale.ROOT, "rss_before_mib: %.1f%n", TrainBench.procStatusKb("VmRSS:") / 1024.0);
    o.flush();

    double[] ms = new double[steps], cpu = new double[steps];
    long b2 = 2L * batch;
    try (unet;
        ModeGuard ng = Autograd.noGrad();
        TensorScope run = TensorScope.open();
        Generator gen = new Generator(Device.CPU, bench.seed + 1)) {
      Tensor x = Tensor.randn(gen, DType.F32, batch, config.inChannels(), latent, latent).to(dev);
      Tensor context = Tensor.randn(gen, DType.F32, b2, BuiltInUNets.TEXT_TOKENS, config.crossAttentionDim())
          .to(dt, dev);
      int total = warmup + steps;
      for (int i = 0; i < total; i++) {
        float t = 999f - (float) Math.floor(i * 1000.0 / total);
        try (TensorScope step = TensorScope.open()) {
          sync(dev);
          long s = System.nanoTime(), c = TrainBench.threadCpuNanos();
          Tensor eps = unet.forward(Tensor.cat(List.of(x, x), 0), Tensor.of(new float[] {t}, 1).to(dev), context);
          List<Tensor> uc = eps.chunk(2, 0);
          Tensor guided = uc.get(0).add(uc.get(1).sub(uc.get(0)).mul(7.5));
          Tensor next = x.sub(guided.mul(1.0 / total));
          sync(dev);
          long e = System.nanoTime();
          if (i >= warmup) {
            ms[i - warmup] = (e - s) / 1e6;
            cpu[i - warmup] = (TrainBench.threadCpuNanos() - c) / 1e6;
          }
          Tensor old = x;
          x = step.keep(next); // to the run scope
          old.close();
        }
      }
      if (!Float.isFinite(x.sum().toFloatArray()[0])) o.println("warning: latents became non-finite");
    }
    double median = TrainBench.median(ms);
    o.printf(Locale.ROOT, "step_ms: %s%n", Arrays.toString(Arrays.stream(ms).map(v -> Math.round(v * 10) / 10.0).toArray()));
    o.printf(Locale.ROOT, "unet_step_median_ms: %.1f%n", median);
    o.printf(Locale.ROOT, "step_cpu_ms: %s%n", Arrays.toString(Arrays.stream(cpu).map(v -> Math.round(v * 10) / 10.0).toArray()));
    o.printf(Locale.ROOT, "unet_step_cpu_median_ms: %.1f (this thread's CPU time; on the CPU with 1 libtorch thread:"
        + " the step's work without what other processes took)%n", TrainBench.median(cpu));
    o.printf(Locale.ROOT, "first_step_over_median: %s%n", BenchOptions.firstOverMedian(ms, median));
    o.printf(Locale.ROOT, "images_per_s: %.4f%n", batch / (steps * median / 1000.0));
    printPeakMemory(o, dev);
    o.flush();
    return 0;
  }

  /** {@code peak_memory_mib}: the CUDA caching allocator's peak on a GPU, the process's peak RSS (VmHWM) on the CPU. */
  static void printPeakMemory(PrintWriter o, Device dev) {
    if (dev.isCuda()) {
      long peak = Torch.cudaMemory(dev.code())[1];
      o.printf(Locale.ROOT, "peak_memory_mib: %.1f (CUDA caching allocator peak, %s)%n", peak / 1048576.0, dev);
    } else {
      long kb = TrainBench.peakRssKb();
      o.printf(Locale.ROOT, "peak_memory_mib: %s (process peak RSS, VmHWM)%n",
          kb < 0 ? "unknown" : String.format(Locale.ROOT, "%.1f", kb / 1024.0));
    }
  }

  static void sync(Device dev) {
    if (dev.isCuda()) Torch.cudaSynchronize(dev.code());
  }
}

package org.sr4g.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.sr4g.UserInputException;
import org.sr4g.detection.image.ImageProcessor;
import org.sr4g.detection.image.RgbImage;
import org.sr4g.detection.owlvit.OwlVitConfig;
import org.sr4g.detection.owlvit.OwlVitDetector;
import org.sr4g.diffusion.Precision;
import org.sr4g.diffusion.models.RandomWeights;
import org.sr4g.diffusion.training.TrainBench;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sr4g bench detect}: OWL-ViT detection throughput on a built-in shape with random weights: the model's forward
 * pass (vision tower at the model's resolution, the text tower on two queries per image, both heads) per batch, and
 * separately the CPU preprocessing of one generated image (Pillow-exact bicubic resize and normalisation).
 */
@Command(
    name = "detect",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Time OWL-ViT detection (images/s, peak memory) on owlvit-b32, owlvit-b16 or owlvit-l14 with random weights.",
    description = "Builds the detector from a built-in config (google/owlvit-base-patch32, -base-patch16,"
        + " -large-patch14 shapes; no checkpoint needed) with random weights from --seed, runs --warmup untimed and"
        + " --steps timed forward passes on --batch random images with two queries each, and prints the median pass"
        + " time, images/s = batch / median, the preprocessing time of one --image-px generated image (resize to the"
        + " model's input and normalise, on the CPU) and the peak memory (CUDA caching-allocator peak on a GPU; the"
        + " process's peak RSS, VmHWM, on the CPU).",
    footer = {
      "",
      "Examples:",
      "  sr4g bench detect --shape owlvit-b32 --batch 8 --device cpu",
      "  sr4g bench detect --shape owlvit-l14 --batch 16 --device cuda --dtype f16"
    })
final class BenchDetectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--shape", defaultValue = "owlvit-b32", paramLabel = "NAME",
      description = "owlvit-b32, owlvit-b16, owlvit-l14 or tiny (default: ${DEFAULT-VALUE})") String shape;
  @Option(names = "--batch", defaultValue = "1", paramLabel = "B", description = "images per pass (default: ${DEFAULT-VALUE})") int batch;
  @Option(names = "--steps", defaultValue = "5", paramLabel = "N", description = "timed passes (default: ${DEFAULT-VALUE})") int steps;
  @Option(names = "--warmup", defaultValue = "1", paramLabel = "N", description = "untimed passes first (default: ${DEFAULT-VALUE})") int warmup;
  @Mixin DeviceOption device;
  @Option(names = "--dtype", defaultValue = "f32", paramLabel = "T", converter = WeightType.Converter.class,
      description = "f32, f16 (CUDA) or bf16 (default: ${DEFAULT-VALUE})") WeightType dtype;
  @Option(names = "--image-px", defaultValue = "512", paramLabel = "PX",
      description = "size of the generated image whose preprocessing is timed (default: ${DEFAULT-VALUE})") int imagePx;
  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "default: ${DEFAULT-VALUE}") long seed;

  private static final int QUERIES = 2;

  @Override
  public Integer call() {
    if (batch < 1) throw new UserInputException("--batch must be at least 1");
    if (steps < 1) throw new UserInputException("--steps must be at least 1");
    if (warmup < 0) throw new UserInputException("--warmup must be at least 0");
    if (imagePx < 1) throw new UserInputException("--image-px must be at least 1");
    Device dev = device.device();
    DType dt = dtype.dtype();
    Precision.require(dt, dev);
    OwlVitConfig config = OwlVitConfig.builtIn(shape);
    int s = config.vision().imageSize();
    PrintWriter o = spec.commandLine().getOut();

    long t0 = System.nanoTime();
    Map<String, long[]> shapes = OwlVitDetector.parameterShapes(config);
    OwlVitDetector model;
    try (RandomWeights w = new RandomWeights(shapes, seed)) {
      model = OwlVitDetector.load(config, w, dev, dt);
    }
    double loadS = (System.nanoTime() - t0) / 1e9;
    o.printf(Locale.ROOT, "bench detect: shape %s (%d px, %d patches, %,d parameters), batch %d, %d queries per image,"
        + " device %s, dtype %s, %d passes + %d warm-up%n", shape, s, config.vision().patches(), model.params().numel(),
        batch, QUERIES, dev, Precision.name(dt), steps, warmup);
    o.printf(Locale.ROOT, "load_s: %.2f%n", loadS);
    o.flush();

    double preprocessMs = preprocessMs(ImageProcessor.defaults(s), imagePx);
    double[] ms = new double[steps];
    try (model; ModeGuard ng = Autograd.noGrad(); TensorScope run = TensorScope.open()) {
      SplittableRandom rnd = new SplittableRandom(seed + 1);
      float[] px = new float[batch * 3 * s * s];
      for (int i = 0; i < px.length; i++) px[i] = (float) (rnd.nextDouble() * 4 - 2);
      Tensor pixels = Tensor.of(px, batch, 3, s, s).to(dt, dev);
      int len = config.text().maxPositions();
      long[] ids = new long[batch * QUERIES * len], mask = new long[ids.length];
      for (int q = 0; q < batch * QUERIES; q++) {
        long[] query = {49406, 320, 1125, 539, 320, 1000 + q % 2000, 49407}; // "a photo of a <token>"
        for (int t = 0; t < query.length && t < len; t++) {
          ids[q * len + t] = Math.min(query[t], config.text().vocabSize() - 1);
          mask[q * len + t] = 1;
        }
      }
      Tensor idsT = Tensor.of(ids, (long) batch * QUERIES, len).to(dev), maskT = Tensor.of(mask, (long) batch * QUERIES, len).to(dev);
      for (int i = 0; i < warmup + steps; i++) {
        try (TensorScope step = TensorScope.open()) {
          BenchInferCommand.sync(dev);
          long a = System.nanoTime();
          OwlVitDetector.Output out = model.forward(pixels, idsT, maskT, false);
          out.logits().to(DType.F32, Device.CPU).toFloatArray(); // what post-processing reads back
          out.predBoxes().to(DType.F32, Device.CPU).toFloatArray();
          long b = System.nanoTime();
          if (i >= warmup) ms[i - warmup] = (b - a) / 1e6;
        }
      }
    }
    double median = TrainBench.median(ms);
    o.printf(Locale.ROOT, "pass_ms: %s%n", Arrays.toString(Arrays.stream(ms).map(v -> Math.round(v * 10) / 10.0).toArray()));
    o.printf(Locale.ROOT, "pass_median_ms: %.1f%n", median);
    o.printf(Locale.ROOT, "images_per_s: %.3f%n", batch / (median / 1000.0));
    o.printf(Locale.ROOT, "preprocess_ms_per_image: %.1f (%d px -> %d px bicubic + normalise, one CPU thread)%n",
        preprocessMs, imagePx, s);
    BenchInferCommand.printPeakMemory(o, dev);
    o.flush();
    return 0;
  }

  /** Median of 10 preprocessings of a random {@code px}×{@code px} image, after 5 untimed ones (JIT warm-up). */
  private static double preprocessMs(ImageProcessor p, int px) {
    SplittableRandom rnd = new SplittableRandom(7);
    byte[] rgb = new byte[px * px * 3];
    for (int i = 0; i < rgb.length; i++) rgb[i] = (byte) rnd.nextInt(256);
    RgbImage img = new RgbImage(px, px, rgb);
    float[] out = new float[3 * p.width() * p.height()];
    double[] ms = new double[10];
    for (int i = -5; i < ms.length; i++) {
      long a = System.nanoTime();
      p.pixelValues(img, out, 0);
      if (i >= 0) ms[i] = (System.nanoTime() - a) / 1e6;
    }
    return TrainBench.median(ms);
  }
}

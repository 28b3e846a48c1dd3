package org.sr4g.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.Precision;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.diffusion.Txt2Img;
import org.sr4g.diffusion.training.TrainBench;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sr4g bench sample}: whole images as {@code sr4g sample} makes them (text encoder, the UNet loop with guidance,
 * the scheduler on the device, VAE decode, PNG pixels), the same N images once one at a time and once
 * {@code --batch} at a time, in one process: the time per image of each, the speed-up, whether the images are
 * byte-identical, and the peak memory.
 */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
    header = "Time whole images (sr4g sample's pipeline), one at a time against --batch at a time; check they are identical.",
    description = "On --model DIR, or on the tiny random model (--shape tiny, written to a temporary folder): --warmup"
        + " untimed images, then --repeats rounds of the same --images N images (prompt i, seed --seed + i), each"
        + " round one at a time and then (--batch > 1) --batch at a time. Prints the time per image of both, the speed-up, whether"
        + " every batched image equals its one-at-a-time twin byte for byte, and the process's peak RSS (VmHWM). The"
        + " model is packed for inference as sr4g sample packs it. --steps is the number of sampler steps per image.",
    footer = {"", "Examples:", "  sr4g bench sample --batch 4 --steps 10", "  sr4g bench sample --res 512 --steps 1 --images 1 --warmup 0"})
final class BenchSampleCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin BenchOptions bench;
  @Option(names = "--model", paramLabel = "DIR", description = "diffusers model folder instead of the tiny random model")
  Path model;
  @Option(names = "--images", paramLabel = "N", description = "images per round (default: --batch)") Integer images;
  @Option(names = "--repeats", defaultValue = "1", paramLabel = "R", description = "rounds (default: ${DEFAULT-VALUE})")
  int repeats;
  @Option(names = "--dtype", defaultValue = "f32", paramLabel = "T", converter = WeightType.Converter.class,
      description = "f32, f16 (CUDA only) or bf16 (default: ${DEFAULT-VALUE})") WeightType dtype;

  @Override
  public Integer call() throws IOException {
    if (model == null && !bench.shape.equals("tiny"))
      throw new UserInputException("bench sample builds only the tiny random model (--shape tiny); give --model DIR for others");
    if (model != null && spec.commandLine().getParseResult().hasMatchedOption("--shape"))
      throw new UserInputException("give --model or --shape, not both");
    int n = images != null ? images : bench.batch;
    if (n < 1 || repeats < 1) throw new UserInputException("--images and --repeats must be at least 1");
    Device dev = bench.device.device();
    DType dt = dtype.dtype();
    Precision.require(dt, dev);
    Path tmp = model == null ? Files.createTempDirectory("sr4g-bench-sample") : null;
    try {
      Path dir = model != null ? model : RandomModelFolder.write(tmp, bench.seed);
      PrintWriter o = spec.commandLine().getOut();
      try (DiffusersModel m = DiffusersModel.load(dir, null, dev, dt)) {
        int res = bench.resolve(m.defaultResolution());
        o.println(bench.describe((model != null ? "model " + model : "tiny random model") + ", dtype " + dtype + ", " + n + " images per round, "
            + repeats + " round(s)", res, bench.steps + " sampler steps per image, " + bench.warmup + " warm-up image(s)"));
        o.println("conv_packing: " + m.packForInference());
        o.flush();
        Txt2Img pipe = new Txt2Img(m, dev);
        List<Txt2Img.Request> all = new ArrayList<>();
        for (int i = 0; i < n; i++)
          all.add(new Txt2Img.Request(PROMPTS[i % PROMPTS.length], "", res, res, bench.steps, 7.5, bench.seed + i, 1));
        for (int i = 0; i < bench.warmup; i++) pipe.generate(all.get(i % n));
        double[] single = new double[repeats], batched = new double[repeats];
        double[] singleCpu = new double[repeats], batchedCpu = new double[repeats];
        boolean identical = true;
        for (int r = 0; r < repeats; r++) {
          long t0 = System.nanoTime(), c0 = TrainBench.threadCpuNanos();
          List<BufferedImage> one = new ArrayList<>();
          for (Txt2Img.Request q : all) one.add(pipe.generate(q));
          long t1 = System.nanoTime(), c1 = TrainBench.threadCpuNanos();
          single[r] = (t1 - t0) / 1e6 / n;
          singleCpu[r] = (c1 - c0) / 1e6 / n;
          if (bench.batch == 1) continue; // nothing to compare with
          List<BufferedImage> many = new ArrayList<>();
          for (int from = 0; from < n; from += bench.batch)
            many.addAll(pipe.generate(all.subList(from, Math.min(n, from + bench.batch))));
          batched[r] = (System.nanoTime() - t1) / 1e6 / n;
          batchedCpu[r] = (TrainBench.threadCpuNanos() - c1) / 1e6 / n;
          for (int i = 0; i < n; i++) identical &= same(one.get(i), many.get(i));
        }
        double s = TrainBench.median(single);
        o.printf(Locale.ROOT, "per_image_ms_batch_1: %s (median %.1f)%n", round(single), s);
        o.printf(Locale.ROOT, "images_per_s_batch_1: %.4f%n", 1000 / s);
        if (bench.batch > 1) {
          double b = TrainBench.median(batched);
          o.printf(Locale.ROOT, "per_image_ms_batch_%d: %s (median %.1f)%n", bench.batch, round(batched), b);
          o.printf(Locale.ROOT, "images_per_s_batch_%d: %.4f%n", bench.batch, 1000 / b);
          o.printf(Locale.ROOT, "speedup_per_image: %.2f%n", s / b);
          o.printf(Locale.ROOT, "speedup_per_image_cpu: %.2f (this thread's CPU time: %.1f against %.1f ms per image)%n",
              TrainBench.median(singleCpu) / TrainBench.median(batchedCpu), TrainBench.median(singleCpu),
              TrainBench.median(batchedCpu));
          o.printf(Locale.ROOT, "identical_to_batch_1: %s (%d images x %d rounds, RGB compared)%n", identical, n, repeats);
        }
        o.printf(Locale.ROOT, "peak_memory_mib: %.1f (process peak RSS, VmHWM)%n", TrainBench.peakRssKb() / 1024.0);
        o.flush();
        return identical ? 0 : 1;
      }
    } finally {
      if (tmp != null)
        try (var files = Files.walk(tmp)) {
          for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
  }

  private static final String[] PROMPTS = {"a cat to the left of a dog", "a red cup above a book", "a bus below a kite",
    "a horse to the right of a tree"};

  private static String round(double[] v) {
    return Arrays.toString(Arrays.stream(v).map(x -> Math.round(x * 10) / 10.0).toArray());
  }

  private static boolean same(BufferedImage a, BufferedImage b) {
    if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) return false;
    for (int y = 0; y < a.getHeight(); y++)
      for (int x = 0; x < a.getWidth(); x++) if (a.getRGB(x, y) != b.getRGB(x, y)) return false;
    return true;
  }
}

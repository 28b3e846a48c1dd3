package org.sr4g.bench;

import java.util.Arrays;
import java.util.Random;
import org.sr4g.cuda.CudaDriver;
import org.sr4g.cuda.RelationKernel;

/**
 * The SR4G relation kernel against its CPU rules: for n boxes, n² masks. Prints one line per n with CPU ms, GPU kernel
 * ms (CUDA events), GPU end-to-end ms (copies included) and whether the masks are identical. Without a GPU it prints
 * the CPU timings and the reason. Usage: java -cp benchmarks.jar org.sr4g.bench.GpuRelationKernelBench [n ...]
 */
public final class GpuRelationKernelBench {
  private GpuRelationKernelBench() {}

  public static void main(String[] args) {
    int[] sizes = args.length == 0 ? new int[] {100, 1000, 4000} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
    CudaDriver.Probe p = CudaDriver.probe();
    System.out.println(p.available() ? "GPU: " + p.devices() + ", driver " + p.driverVersionString()
        : "GPU: none (" + p.reason() + ")");
    System.out.printf("%8s %12s %12s %12s %10s%n", "n", "cpu_ms", "gpu_kern_ms", "gpu_e2e_ms", "equal");
    for (int n : sizes) {
      Random r = new Random(n);
      float[] b = new float[4 * n];
      for (int i = 0; i < n; i++) {
        b[4 * i] = r.nextInt(600);
        b[4 * i + 1] = r.nextInt(400);
        b[4 * i + 2] = 1 + r.nextInt(200);
        b[4 * i + 3] = 1 + r.nextInt(200);
      }
      int[] cpu = null;
      long best = Long.MAX_VALUE;
      for (int rep = 0; rep < 3; rep++) {
        long t0 = System.nanoTime();
        cpu = RelationKernel.cpu(b, 640, 480);
        best = Math.min(best, System.nanoTime() - t0);
      }
      String kern = "-", e2e = "-", eq = "-";
      if (p.available()) {
        try {
          float[] ms = new float[1];
          RelationKernel.gpu(b, 640, 480, ms); // warm-up: module load, first launch
          long t0 = System.nanoTime();
          int[] gpu = RelationKernel.gpu(b, 640, 480, ms);
          e2e = String.format("%.3f", (System.nanoTime() - t0) / 1e6);
          kern = String.format("%.3f", ms[0]);
          eq = String.valueOf(Arrays.equals(cpu, gpu));
        } catch (RuntimeException e) {
          eq = "error: " + e.getMessage();
        }
      }
      System.out.printf("%8d %12.3f %12s %12s %10s%n", n, best / 1e6, kern, e2e, eq);
    }
  }
}

package org.sr4g.bench;

import java.util.Arrays;
import java.util.Random;
import org.sr4g.cuda.CudaDriver;
import org.sr4g.cuda.CudaRelationKernel;
import org.sr4g.geometry.BoxTable;
import org.sr4g.relations.RelationKernel;

/**
 * The CUDA relation kernel against the CPU kernels: for n boxes, all n² ordered pairs ({@code relateAll}). Prints one
 * line per n with the scalar and the best CPU kernel's ms (best of 3), the GPU kernel's ms (CUDA events), the GPU
 * end-to-end ms (copies included) and whether the GPU masks equal the scalar oracle's. Without a GPU it prints the CPU
 * timings and the reason. Usage: java -cp benchmarks.jar org.sr4g.bench.GpuRelationKernelBench [n ...]
 */
public final class GpuRelationKernelBench {
  private GpuRelationKernelBench() {}

  public static void main(String[] args) {
    int[] sizes = args.length == 0 ? new int[] {100, 1000, 4000} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
    CudaDriver.Probe p = CudaDriver.probe();
    String why = CudaRelationKernel.unavailableReason();
    System.out.println(p.available() ? "GPU: " + p.devices() + ", driver " + p.driverVersionString()
        : "GPU: none (" + p.reason() + ")");
    if (p.available() && why != null) System.out.println("GPU kernel: " + why);
    System.out.printf("%8s %12s %12s %12s %12s %10s%n", "n", "scalar_ms", "best_ms", "gpu_kern_ms", "gpu_e2e_ms", "equal");
    for (int n : sizes) {
      BoxTable t = boxes(n);
      int[] scalar = new int[n * n], best = new int[n * n];
      double scalarMs = bestOfThree(RelationKernel.scalar(), t, scalar);
      double bestMs = bestOfThree(RelationKernel.best(), t, best);
      String kern = "-", e2e = "-", eq = "-";
      if (why == null) {
        try {
          CudaRelationKernel gpu = CudaRelationKernel.open();
          int[] masks = new int[n * n];
          float[] ms = new float[1];
          gpu.relateAll(t, masks, ms); // warm-up: module load, first launch
          long t0 = System.nanoTime();
          gpu.relateAll(t, masks, ms);
          e2e = String.format("%.3f", (System.nanoTime() - t0) / 1e6);
          kern = String.format("%.3f", ms[0]);
          eq = String.valueOf(Arrays.equals(scalar, masks));
        } catch (RuntimeException e) {
          eq = "error: " + e.getMessage();
        }
      }
      System.out.printf("%8d %12.3f %12.3f %12s %12s %10s  (best = %s, equal to scalar: %s)%n", n, scalarMs, bestMs, kern,
          e2e, eq, RelationKernel.best().name(), Arrays.equals(scalar, best));
    }
  }

  /** n random boxes in a 640 x 480 image (integer pixels, as COCO-like as a one-liner gets). */
  private static BoxTable boxes(int n) {
    Random r = new Random(n);
    BoxTable t = new BoxTable(n);
    for (int i = 0; i < n; i++) t.addCoco(r.nextInt(600), r.nextInt(400), 1 + r.nextInt(200), 1 + r.nextInt(200), 640, 480);
    return t;
  }

  private static double bestOfThree(RelationKernel k, BoxTable t, int[] out) {
    long best = Long.MAX_VALUE;
    for (int rep = 0; rep < 3; rep++) {
      long t0 = System.nanoTime();
      k.relateAll(t, out);
      best = Math.min(best, System.nanoTime() - t0);
    }
    return best / 1e6;
  }
}

package org.sr4g.diffusion.safetensors;

import java.nio.file.Path;
import java.util.Set;

/**
 * How far apart two weight files of the same model are: for every tensor the largest element difference relative to
 * that tensor's largest magnitude, and the largest of these over the file. This is the measure the distributed-training
 * tests hold to 1e-6 (docs/training.md): relative per tensor, so small and large tensors count alike.
 */
public final class SafetensorsDiff {
  private SafetensorsDiff() {}

  /** max over tensors of max|a − b| / max|a|; the two files must hold the same tensor names and shapes. */
  public static double maxRelative(Path a, Path b) {
    double worst = 0;
    try (SafetensorsFile x = SafetensorsFile.open(a); SafetensorsFile y = SafetensorsFile.open(b)) {
      Set<String> keys = x.keys();
      if (!keys.equals(y.keys())) throw new IllegalArgumentException(a + " and " + b + " hold different tensors");
      for (String k : keys) {
        float[] u = x.readFloats(k), v = y.readFloats(k);
        if (u.length != v.length) throw new IllegalArgumentException(k + ": " + u.length + " vs " + v.length + " values");
        double max = 0, diff = 0;
        for (int i = 0; i < u.length; i++) {
          max = Math.max(max, Math.abs(u[i]));
          diff = Math.max(diff, Math.abs(u[i] - v[i]));
        }
        if (max > 0) worst = Math.max(worst, diff / max);
      }
    }
    return worst;
  }
}

package org.sr4g.diffusion.schedulers;

/** diffusers' inference timestep spacings for integer-timestep schedulers (DDPM, DDIM, PNDM). */
final class Timesteps {
  private Timesteps() {}

  /** {@code t} itself, or an error telling the caller to set the timesteps first. */
  static long[] require(long[] t) {
    if (t == null) throw new IllegalStateException("call setTimesteps first");
    return t;
  }

  /** Integer timesteps as the float array {@link Scheduler#timesteps()} returns. */
  static float[] asFloats(long[] t) {
    float[] out = new float[t.length];
    for (int i = 0; i < t.length; i++) out[i] = t[i];
    return out;
  }

  /** Descending timesteps for {@code n} inference steps. */
  static long[] spaced(SchedulerConfig c, int n) {
    int train = c.numTrainTimesteps();
    if (n < 1 || n > train)
      throw new IllegalArgumentException("num_inference_steps " + n + " must be in 1.." + train);
    long[] t = new long[n];
    switch (c.timestepSpacing()) {
      case "leading" -> {
        // (np.arange(0, n) * (train // n)).round()[::-1] + steps_offset
        long ratio = train / n;
        for (int i = 0; i < n; i++) t[i] = (n - 1 - i) * ratio + c.stepsOffset();
      }
      case "linspace" -> {
        // np.linspace(0, train - 1, n).round()[::-1] (numpy rounds half to even)
        for (int i = 0; i < n; i++) t[n - 1 - i] = (long) Math.rint(numpyLinspace(0, train - 1, n, i));
      }
      case "trailing" -> {
        // np.round(np.arange(train, 0, -train / n)) - 1
        double ratio = (double) train / n;
        for (int i = 0; i < n; i++) t[i] = (long) Math.rint(train - i * ratio) - 1;
      }
      default -> throw new IllegalStateException(c.timestepSpacing());
    }
    return t;
  }

  /** Element {@code i} of {@code np.linspace(start, stop, num)} (float64: {@code i * step + start}, last = stop). */
  static double numpyLinspace(double start, double stop, int num, int i) {
    if (num == 1) return start;
    if (i == num - 1) return stop;
    double step = (stop - start) / (num - 1);
    return i * step + start;
  }
}

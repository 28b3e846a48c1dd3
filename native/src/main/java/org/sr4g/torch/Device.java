package org.sr4g.torch;

import org.sr4g.UserInputException;

/** A device: {@link #CPU} or {@code cuda:N}. The native code is -1 for the CPU and N for cuda:N. */
public record Device(int code) {
  public static final Device CPU = new Device(-1);

  public Device {
    if (code < -1) throw new IllegalArgumentException("bad device code " + code);
  }

  public static Device cuda(int index) {
    if (index < 0) throw new IllegalArgumentException("CUDA device index must be >= 0: " + index);
    return new Device(index);
  }

  public boolean isCuda() {
    return code >= 0;
  }

  @Override
  public String toString() {
    return code < 0 ? "cpu" : "cuda:" + code;
  }

  /** Parses {@code cpu}, {@code cuda} (= cuda:0) or {@code cuda:N}. */
  public static Device parse(String s) {
    if (s.equals("cpu")) return CPU;
    if (s.equals("cuda")) return cuda(0);
    if (s.startsWith("cuda:")) return cuda(Integer.parseInt(s.substring(5)));
    throw new IllegalArgumentException("unknown device '" + s + "' (cpu, cuda or cuda:N)");
  }

  /**
   * A device a user asked for with {@code --device TEXT}, checked before any work: a malformed name, or a CUDA device
   * this libtorch cannot use (CPU-only build, no driver, index out of range), is a {@link UserInputException} saying
   * so, not an error from deep inside the first op.
   */
  public static Device forUser(String text) {
    Device dev;
    try {
      dev = parse(text);
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--device: " + e.getMessage());
    }
    if (dev.isCuda()) {
      Native.require();
      int n = Torch.cudaDeviceCount();
      if (dev.code() >= n)
        throw new UserInputException("--device " + dev + ": libtorch sees " + n + " CUDA device(s)"
            + (Torch.builtWithCuda() ? "" : " (this libtorch is CPU-only: see `sr4g doctor` and docs/native.md)"));
    }
    return dev;
  }
}

package org.sr4g.torch;

import java.util.Locale;

/**
 * The BLAS libtorch's matrix products run on. Debian's libtorch links the generic {@code libblas.so.3}: the reference
 * (netlib) BLAS unless {@code libopenblas0-pthread} provides it, and the reference one makes every linear layer and
 * attention product ~8× slower (bench/results/engine-cpu.md). OpenBLAS's threads follow libtorch's intra-op threads.
 *
 * @param library the file {@code libblas.so.3} resolves to, empty when libtorch loaded none (it carries MKL or no BLAS)
 * @param threads OpenBLAS's thread count, -1 when the library is not OpenBLAS
 */
public record Blas(String library, int threads) {
  /** What the library is: {@code openblas}, {@code reference}, {@code other} or {@code builtin}. */
  public String kind() {
    if (library.isEmpty()) return "builtin";
    String l = library.toLowerCase(Locale.ROOT);
    if (threads >= 0 || l.contains("openblas")) return "openblas";
    if (l.contains("/blas/")) return "reference"; // Debian's libblas3 lives in .../blas/libblas.so.3
    return "other";
  }

  /** Whether matrix products run on the slow reference BLAS. */
  public boolean isReference() {
    return kind().equals("reference");
  }

  /** The kind, with OpenBLAS's threads: what a benchmark's settings line records. */
  public String label() {
    return threads >= 0 ? kind() + " (" + threads + " thread(s))" : kind();
  }

  /** One line for {@code sr4g doctor}. */
  public String describe() {
    return switch (kind()) {
      case "builtin" -> "the BLAS built into libtorch";
      case "openblas" -> "OpenBLAS, " + threads + " thread(s) (" + library + ")";
      case "reference" -> "reference BLAS (" + library + "): matrix products ~8x slower than OpenBLAS;"
          + " apt-get install -y --no-install-recommends libopenblas0-pthread";
      default -> library;
    };
  }
}

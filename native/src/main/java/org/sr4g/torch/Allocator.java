package org.sr4g.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The malloc this process runs on, read from {@code /proc/self/maps}: a thread-caching allocator preloaded by
 * {@code ./sr4g} (scripts/malloc.sh: tcmalloc, or what {@code SR4G_MALLOC} names), or glibc's. It matters: with glibc's
 * malloc every large tensor temporary is a fresh {@code mmap} that page-faults on first touch, and libtorch runs up to
 * ~10× slower on the CPU (bench/results/engine-cpu.md). {@code sr4g doctor} reports it and warns on glibc's.
 *
 * @param name {@code tcmalloc}, {@code jemalloc}, {@code mimalloc} or {@code glibc}
 * @param library the mapped library file (empty for glibc)
 * @param launcher what the launcher decided and why ({@code SR4G_MALLOC_STATUS}), empty when not started by it
 */
public record Allocator(String name, String library, String launcher) {
  private static final List<String> KNOWN = List.of("tcmalloc", "jemalloc", "mimalloc");

  /** The allocator of this process. */
  public static Allocator active() {
    String launcher = System.getenv().getOrDefault("SR4G_MALLOC_STATUS", "");
    try {
      return fromMaps(Files.readAllLines(Path.of("/proc/self/maps")), launcher);
    } catch (IOException | RuntimeException e) {
      return new Allocator("unknown", "", launcher); // not Linux
    }
  }

  /** The first known allocator library among the mapped files of a {@code /proc/PID/maps} listing, else glibc. */
  static Allocator fromMaps(List<String> maps, String launcher) {
    for (String line : maps) {
      int slash = line.indexOf('/');
      if (slash < 0) continue;
      String file = line.substring(slash).strip();
      String base = file.substring(file.lastIndexOf('/') + 1);
      for (String k : KNOWN)
        if (base.startsWith("lib" + k)) return new Allocator(k, file, launcher);
    }
    return new Allocator("glibc", "", launcher);
  }

  public boolean isGlibc() {
    return name.equals("glibc");
  }

  /** One line for users: the allocator, and for glibc's why it matters and how to fix it. */
  public String describe() {
    if (name.equals("unknown")) return "unknown (no /proc/self/maps)";
    if (!isGlibc()) return name + " (" + library + ")";
    return "glibc malloc: WARNING libtorch runs up to ~10x slower on the CPU with it; start sr4g with ./sr4g, which"
        + " preloads tcmalloc (apt-get install -y libtcmalloc-minimal4)" + (launcher.isEmpty() ? "" : " — launcher: " + launcher);
  }
}

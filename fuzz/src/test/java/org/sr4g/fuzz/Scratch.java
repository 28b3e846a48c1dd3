package org.sr4g.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One temporary folder per fuzzing JVM: the targets whose readers take a path write the input there. */
final class Scratch {
  private static final Path DIR = create();

  private Scratch() {}

  private static Path create() {
    try {
      Path d = Files.createTempDirectory("sr4g-fuzz");
      d.toFile().deleteOnExit();
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code name} in the scratch folder, holding {@code bytes} (replaced on every call). */
  static Path file(String name, byte[] bytes) throws IOException {
    Path p = DIR.resolve(name);
    Files.createDirectories(p.getParent());
    Files.write(p, bytes);
    p.toFile().deleteOnExit();
    return p;
  }

  static Path dir(String name) throws IOException {
    return Files.createDirectories(DIR.resolve(name));
  }
}

package org.sr4g.torch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Properties;

/**
 * Finds the files {@code native/build-native.sh} produced: {@code libsr4g_torch.so}, {@code sr4g_kernels.fatbin} and
 * {@code native.properties} (what was found at build time). Looked for in {@code -Dsr4g.native.path} (a directory, or
 * the .so itself) first, then as jar resources under {@code org/sr4g/native/linux-x86_64/}; resources inside a jar are
 * extracted once per JVM to a temporary directory because dlopen needs a real file.
 */
public final class NativeFiles {
  public static final String LIBRARY = "libsr4g_torch.so";
  public static final String FATBIN = "sr4g_kernels.fatbin";
  public static final String PROPERTIES = "native.properties";
  private static final String RESOURCE_DIR = "/org/sr4g/native/linux-x86_64/";
  private static Path extracted;

  private NativeFiles() {}

  /** The path of one native file, or empty when this build has none (e.g. built without libtorch or nvcc). */
  public static synchronized Optional<Path> locate(String name) {
    String override = System.getProperty("sr4g.native.path");
    if (override != null && !override.isBlank()) {
      Path p = Path.of(override);
      if (Files.isRegularFile(p)) p = p.getParent();
      Path f = p.resolve(name);
      return Files.isRegularFile(f) ? Optional.of(f) : Optional.empty();
    }
    URL url = NativeFiles.class.getResource(RESOURCE_DIR + name);
    if (url == null) return Optional.empty();
    try {
      if ("file".equals(url.getProtocol())) return Optional.of(Path.of(url.toURI()));
      if (extracted == null) {
        extracted = Files.createTempDirectory("sr4g-native");
        // Registered before its files: deleteOnExit runs in reverse order, so the files go first, then the directory.
        extracted.toFile().deleteOnExit();
      }
      Path f = extracted.resolve(name);
      if (!Files.exists(f)) {
        try (InputStream in = url.openStream()) {
          Files.copy(in, f, StandardCopyOption.REPLACE_EXISTING);
        }
        f.toFile().deleteOnExit();
      }
      return Optional.of(f);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract native file " + name, e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Build-time facts (libtorch version and directory, fatbin architectures); empty when not built. */
  public static Properties buildProperties() {
    Properties p = new Properties();
    locate(PROPERTIES).ifPresent(f -> {
      try (InputStream in = Files.newInputStream(f)) {
        p.load(in);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    return p;
  }
}

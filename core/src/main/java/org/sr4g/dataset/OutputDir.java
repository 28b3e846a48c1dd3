package org.sr4g.dataset;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import org.sr4g.UserInputException;

/**
 * All-or-nothing output: files are written into a temporary sibling directory which replaces the target only when
 * everything succeeded, so an interrupted or failed run never leaves half-written output under the target name.
 */
public final class OutputDir implements AutoCloseable {
  private final Path target;
  private final Path staging;
  private boolean committed;

  private OutputDir(Path target, Path staging) {
    this.target = target;
    this.staging = staging;
  }

  /**
   * Checks the target before any work starts: a non-empty directory is refused unless {@code force}; a regular file
   * is always refused.
   */
  public static OutputDir prepare(Path target, boolean force) {
    Path abs = target.toAbsolutePath().normalize();
    if (Files.isRegularFile(abs)) throw new UserInputException(target + ": exists and is a file, expected a directory");
    if (Files.isDirectory(abs) && !force && !isEmpty(abs)) {
      throw new UserInputException(target + ": directory is not empty (use --force to replace it)");
    }
    Path parent = abs.getParent();
    try {
      Files.createDirectories(parent);
      Path staging = Files.createTempDirectory(parent, "." + abs.getFileName() + ".tmp-");
      return new OutputDir(abs, staging);
    } catch (IOException e) {
      throw new UserInputException(target + ": cannot create output directory: " + e.getMessage(), e);
    }
  }

  private static boolean isEmpty(Path dir) {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      return !s.iterator().hasNext();
    } catch (IOException e) {
      throw new UserInputException(dir + ": cannot list: " + e.getMessage(), e);
    }
  }

  /** Where to write a file now; it appears under the target name only after {@link #commit()}. */
  public Path file(String name) {
    return staging.resolve(name);
  }

  public Path target() {
    return target;
  }

  /** Replaces the target with the staged files. */
  public void commit() {
    try {
      if (Files.exists(target)) {
        Path old = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".old-");
        Files.delete(old);
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
      } else {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      }
      committed = true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move " + staging + " to " + target, e);
    }
  }

  /** Removes the staging directory unless committed. */
  @Override
  public void close() {
    if (!committed) {
      try {
        deleteTree(staging);
      } catch (IOException ignored) {
        // Best effort: a leftover hidden .tmp- directory is harmless and says what it is.
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    Files.walkFileTree(dir, new SimpleFileVisitor<Path>() {
      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
        Files.delete(f);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        Files.delete(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}

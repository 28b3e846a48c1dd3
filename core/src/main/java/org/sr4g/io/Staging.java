package org.sr4g.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Hidden sibling folders and files that outputs are written into before their rename: {@code .NAME.sr4g-tmp-OWNER-R}
 * (the new output) and {@code .NAME.sr4g-old-OWNER-R} (the output being replaced, between the two renames of a
 * {@code --force} commit). OWNER is the writing process (pid and start time), so a later run can tell the leftovers of
 * a killed run from the work of a live one and {@link #cleanStale cleans} them: stale new output is deleted, a stale
 * old output is put back when its target is missing (the kill came between the renames) and deleted otherwise.
 * They are created with the user's umask, like every file sr4g writes (not the 0700/0600 of temp files).
 */
public final class Staging {
  static final String TMP = ".sr4g-tmp-";
  static final String OLD = ".sr4g-old-";
  private static final String OWNER = owner(ProcessHandle.current());

  private Staging() {}

  private static String owner(ProcessHandle p) {
    return p.pid() + "-" + p.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
  }

  /** A fresh, empty staging folder beside {@code target}. */
  public static Path newFolder(Path target) {
    return create(target, TMP, true);
  }

  /** A fresh path (not created) beside {@code target}, for a file written then renamed. */
  public static Path newFile(Path target) {
    return name(target, TMP);
  }

  /** A fresh path (not created) beside {@code target} to move the replaced output to. */
  public static Path oldName(Path target) {
    return name(target, OLD);
  }

  private static Path name(Path target, String kind) {
    return target.resolveSibling("." + target.getFileName() + kind + OWNER + "-"
        + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16));
  }

  private static Path create(Path target, String kind, boolean dir) {
    for (int attempt = 0; ; attempt++) {
      Path p = name(target, kind);
      try {
        return dir ? Files.createDirectory(p) : Files.createFile(p);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        if (attempt > 8) throw new UncheckedIOException(e);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Removes (or restores, see the class comment) the staging leftovers of dead processes beside {@code target}. */
  public static void cleanStale(Path target) {
    Path parent = target.getParent();
    if (parent == null || !Files.isDirectory(parent)) return;
    String prefix = "." + target.getFileName();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(parent, prefix + ".sr4g-*")) {
      for (Path p : s) {
        String rest = p.getFileName().toString().substring(prefix.length());
        boolean old = rest.startsWith(OLD);
        if (!old && !rest.startsWith(TMP)) continue;
        if (!isDead(rest.substring(TMP.length()))) continue;
        if (old && !Files.exists(target, LinkOption.NOFOLLOW_LINKS)) Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
        else deleteTree(p);
      }
    } catch (IOException e) {
      // Best effort: a leftover that cannot be removed now is tried again by the next run.
    }
  }

  /** OWNER-R of a staging name: dead when no live process has that pid and start time. */
  static boolean isDead(String ownerAndRandom) {
    String[] f = ownerAndRandom.split("-");
    if (f.length != 3) return false;
    try {
      long pid = Long.parseLong(f[0]);
      Optional<ProcessHandle> h = ProcessHandle.of(pid);
      return h.isEmpty() || !h.get().isAlive() || !owner(h.get()).equals(f[0] + "-" + f[1]);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** Deletes a file or a folder tree (links are deleted, never followed). */
  public static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
    if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      Files.delete(p);
      return;
    }
    Files.walkFileTree(p, new SimpleFileVisitor<Path>() {
      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
        Files.delete(f);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null) throw e;
        Files.delete(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}

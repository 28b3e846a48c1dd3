package org.sr4g.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A file or a folder appears complete or not at all: written to a hidden sibling ({@link Staging#newFile},
 * {@link Staging#newFolder}, created with the user's umask) and renamed over the target. The target must already be
 * checked ({@link OutputRules#checkFile}, or the caller's own rule): the rename replaces whatever is there. The one
 * implementation of temp-then-rename, {@link #move} and {@link #fsync} for every writer.
 */
public final class AtomicFiles {
  /** Writes a file's bytes. */
  public interface Content {
    void writeTo(OutputStream out) throws IOException;
  }

  /** Writes a folder's content into the (staging) folder it is given. */
  public interface FolderContent {
    void writeInto(Path folder) throws IOException;
  }

  private AtomicFiles() {}

  public static void write(Path target, Content content) throws IOException {
    Path tmp = Staging.newFile(target);
    try {
      try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        content.writeTo(out);
      }
      move(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Writes the folder {@code target}: the staging leftovers of killed runs beside it are cleaned
   * ({@link Staging#cleanStale}), {@code content} fills a fresh staging sibling, which is synced to disk with
   * {@code target}'s parent around the rename ({@code durable}: a crash leaves the old folder or the new one), then
   * replaces {@code target} (deleted first: the caller has decided it may go). On any failure the staging folder is
   * deleted and {@code target} is untouched.
   */
  public static void writeFolder(Path target, boolean durable, FolderContent content) throws IOException {
    Path parent = target.toAbsolutePath().getParent();
    if (parent != null) Files.createDirectories(parent); // `init-model --out try/tiny-model` in a fresh folder
    Staging.cleanStale(target);
    Path tmp = Staging.newFolder(target);
    try {
      content.writeInto(tmp);
      if (durable) fsync(tmp, true);
      Staging.deleteTree(target);
      move(tmp, target);
      if (durable) fsync(target.toAbsolutePath().getParent(), true);
    } finally {
      Staging.deleteTree(tmp);
    }
  }

  /** Renames {@code from} over {@code to} atomically, or with a plain replacing move where the file system cannot. */
  public static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * Forces a file's bytes, or a folder's entries (what makes a rename in it durable on Linux), to disk. A file system
   * that refuses to sync a folder is tolerated: the files themselves are durable.
   */
  public static void fsync(Path p, boolean directory) throws IOException {
    // Directories are opened read-only for fsync (POSIX allows it; Linux needs it to persist the rename).
    try (FileChannel c = FileChannel.open(p, directory ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
      c.force(true);
    } catch (IOException e) {
      if (!directory) throw e;
    }
  }
}

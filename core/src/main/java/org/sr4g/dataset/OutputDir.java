package org.sr4g.dataset;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.io.Escape;
import org.sr4g.io.OutputRules;
import org.sr4g.io.Staging;

/**
 * All-or-nothing output: files are written into a staging sibling folder ({@link Staging}) which replaces the target
 * only when everything succeeded, so an interrupted or failed run never leaves half-written output under the target
 * name. What may be a target is {@link OutputRules}'s to say; the committed folder carries its marker. A failed run
 * also removes the parent folders it created.
 */
public final class OutputDir implements AutoCloseable {
  private final Path target;
  private final Path staging;
  private final String command;
  private final List<Path> createdParents;
  private boolean committed;

  private OutputDir(Path target, Path staging, String command, List<Path> createdParents) {
    this.target = target;
    this.staging = staging;
    this.command = command;
    this.createdParents = createdParents;
  }

  /** {@link #prepare(String, Path, boolean, Collection)} for {@code sr4g generate} without inputs on disk. */
  public static OutputDir prepare(Path target, boolean force) {
    return prepare("generate", target, force, List.of());
  }

  /**
   * Checks the target before any work starts ({@link OutputRules#checkFolder}), removes the staging leftovers of
   * killed runs, creates the missing parent folders and the staging folder.
   */
  public static OutputDir prepare(String command, Path target, boolean force, Collection<Path> inputs) {
    Path abs = OutputRules.absolute(target);
    Staging.cleanStale(abs); // first: a restored output is then checked like any other
    OutputRules.checkFolder(target, force, false, inputs);
    List<Path> created = new ArrayList<>();
    try {
      for (Path p = abs.getParent(); p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent())
        created.add(0, p);
      Files.createDirectories(abs.getParent());
      return new OutputDir(abs, Staging.newFolder(abs), command, created);
    } catch (IOException | UncheckedIOException e) {
      removeCreated(created);
      throw new UserInputException("--out " + Escape.text(target.toString()) + ": cannot create the output folder: "
          + Escape.text(String.valueOf(e.getMessage())));
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
    OutputRules.mark(staging, command);
    try {
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        Path old = Staging.oldName(target);
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        Staging.deleteTree(old);
      } else {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      }
      committed = true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move " + staging + " to " + target, e);
    }
  }

  /** Removes the staging folder (and the parents this run created) unless committed. */
  @Override
  public void close() {
    if (committed) return;
    try {
      Staging.deleteTree(staging);
    } catch (IOException ignored) {
      // Best effort: the next run beside this target removes a leftover (Staging.cleanStale).
    }
    removeCreated(createdParents);
  }

  private static void removeCreated(List<Path> created) {
    for (int i = created.size() - 1; i >= 0; i--) {
      try {
        Files.deleteIfExists(created.get(i));
      } catch (IOException e) {
        return; // not empty: someone else put something there
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    Staging.deleteTree(dir);
  }
}

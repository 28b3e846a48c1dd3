package org.sr4g.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Collection;
import org.sr4g.UserInputException;

/**
 * What may be an {@code --out}, for every command. A folder output is only ever a folder sr4g created (it holds the
 * {@value #MARKER} marker) or an empty one; {@code --force} replaces only a folder holding a previous sr4g output,
 * and never {@code /}, the working directory or one above it, a home directory or one above it, or a folder holding
 * one of the run's inputs. A file output is absent or a regular file. Symbolic links, FIFOs, devices and sockets are
 * refused as outputs: sr4g never replaces a node it did not make.
 */
public final class OutputRules {
  /** The file that marks a folder as sr4g's output: it names the command that wrote it. */
  public static final String MARKER = ".sr4g-output";

  /** What is at a folder target now. */
  public enum Existing {
    /** Nothing: the caller creates it. */
    ABSENT,
    /** An empty folder. */
    EMPTY,
    /** A previous sr4g output that this run replaces ({@code --force}) or continues (resumable commands). */
    SR4G_OUTPUT
  }

  private OutputRules() {}

  /**
   * Checks a folder target before any work. {@code resumable}: the command adds to its own previous output (sample,
   * train) instead of replacing it. {@code inputs}: the run's input files, never inside a folder that is replaced.
   */
  public static Existing checkFolder(Path out, boolean force, boolean resumable, Collection<Path> inputs) {
    Path abs = absolute(out);
    String shown = "--out " + Escape.text(out.toString());
    BasicFileAttributes a = attributes(abs);
    if (a == null) return Existing.ABSENT;
    if (a.isSymbolicLink())
      throw new UserInputException(shown + ": is a symbolic link" + (Files.exists(abs) ? "" : " to nothing")
          + "; give the folder itself");
    if (!a.isDirectory())
      throw new UserInputException(shown + ": exists and is " + InputPaths.kind(a) + "; expected a folder (it is"
          + " never replaced)");
    if (isEmpty(abs)) return Existing.EMPTY;
    boolean ours = isSr4gOutput(abs);
    if (resumable) {
      if (ours) return Existing.SR4G_OUTPUT;
      throw new UserInputException(shown + ": folder is not empty and is not an sr4g output (no " + MARKER
          + "); choose another --out (an earlier sr4g run's folder from before the marker: add an empty " + MARKER
          + " file to it)");
    }
    if (!ours)
      throw new UserInputException(shown + ": folder is not empty and is not an sr4g output (no " + MARKER
          + "), so even --force does not replace it; choose another --out");
    if (!force) throw new UserInputException(shown + ": holds a previous sr4g output (use --force to replace it)");
    refuseProtected(abs, shown, inputs);
    return Existing.SR4G_OUTPUT;
  }

  /** A file target: absent, or a regular file (not a link, folder, FIFO or device), in an existing folder. */
  public static Path checkFile(Path out) {
    Path abs = absolute(out);
    String shown = "--out " + Escape.text(out.toString());
    BasicFileAttributes a = attributes(abs);
    if (a != null && a.isSymbolicLink())
      throw new UserInputException(shown + ": is a symbolic link; give the file itself");
    if (a != null && !a.isRegularFile())
      throw new UserInputException(shown + ": exists and is " + InputPaths.kind(a) + "; expected a file name (it is"
          + " never replaced)");
    Path dir = abs.getParent();
    if (dir == null || !Files.isDirectory(dir))
      throw new UserInputException(shown + ": folder " + Escape.text(String.valueOf(dir)) + " does not exist");
    return abs;
  }

  /** {@code --force} never replaces these, even when they hold an sr4g output. */
  private static void refuseProtected(Path abs, String shown, Collection<Path> inputs) {
    Path cwd = Path.of("").toAbsolutePath().normalize();
    if (cwd.startsWith(abs)) throw new UserInputException(shown + ": is the working directory or holds it; refusing to replace it");
    String home = System.getProperty("user.home");
    if (home != null && !home.isEmpty() && Path.of(home).toAbsolutePath().normalize().startsWith(abs))
      throw new UserInputException(shown + ": is a home directory or holds one; refusing to replace it");
    Path real = realOrSelf(abs);
    for (Path in : inputs) {
      if (in == null) continue;
      Path i = absolute(in);
      if (i.startsWith(abs) || realOrSelf(i).startsWith(real))
        throw new UserInputException(shown + ": holds the input " + Escape.text(in.toString())
            + "; refusing to replace it");
    }
  }

  /**
   * True when {@code dir} holds the marker, or is an output from before the marker: a generate output (its manifest
   * names sr4g) or a train run (metrics.jsonl beside checkpoints/).
   */
  public static boolean isSr4gOutput(Path dir) {
    if (Files.isRegularFile(dir.resolve(MARKER), LinkOption.NOFOLLOW_LINKS)) return true;
    if (Files.isRegularFile(dir.resolve("metrics.jsonl"), LinkOption.NOFOLLOW_LINKS)
        && Files.isDirectory(dir.resolve("checkpoints"), LinkOption.NOFOLLOW_LINKS)) return true;
    Path manifest = dir.resolve("manifest.json");
    try {
      if (!Files.isRegularFile(manifest, LinkOption.NOFOLLOW_LINKS) || Files.size(manifest) > (1 << 20)) return false;
      String s = Files.readString(manifest, StandardCharsets.UTF_8);
      return s.contains("\"tool\" : \"sr4g\"") || s.contains("\"tool\":\"sr4g\"");
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * A resumable command's folder (sample, train), checked before and created (with its marker and missing parents)
   * only when the first result is about to be written: a run that fails earlier leaves nothing behind.
   */
  public static void createResumable(Path out, String command) {
    checkFolder(out, false, true, java.util.List.of());
    try {
      Files.createDirectories(absolute(out));
    } catch (IOException e) {
      throw new UserInputException("--out " + Escape.text(out.toString()) + ": cannot create: " + Escape.text(e.getMessage()));
    }
    if (!Files.exists(out.resolve(MARKER))) mark(out, command);
  }

  /** Writes the marker into {@code dir} (the staging folder before its rename, or a resumable folder). */
  public static void mark(Path dir, String command) {
    try {
      Files.writeString(dir.resolve(MARKER), "{\"tool\":\"sr4g\",\"command\":\"" + command + "\"}\n",
          StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code out} absolute and normalised; an empty path or {@code /} is refused (there is no folder to replace). */
  public static Path absolute(Path out) {
    if (out.toString().isEmpty()) throw new UserInputException("--out is empty");
    Path abs = out.toAbsolutePath().normalize();
    if (abs.getParent() == null) throw new UserInputException("--out " + Escape.text(out.toString()) + ": is the root folder");
    return abs;
  }

  private static Path realOrSelf(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      return p;
    }
  }

  private static BasicFileAttributes attributes(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return null;
    }
  }

  private static boolean isEmpty(Path dir) {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      return !s.iterator().hasNext();
    } catch (IOException e) {
      throw new UserInputException("--out " + Escape.text(dir.toString()) + ": cannot list: " + e.getMessage());
    }
  }
}

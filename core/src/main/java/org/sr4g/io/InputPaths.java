package org.sr4g.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import org.sr4g.UserInputException;

/**
 * Files named inside data files ({@code file_name} of train.jsonl, ...) are read under a root folder the user gave
 * ({@code --images}), and only there: a name is refused when it is absolute, holds a NUL, or leaves the root after
 * {@code ..} is normalised ({@link #resolve}), and a file is refused when a symbolic link takes it outside the root
 * or it is not a regular file (a FIFO would block the reader forever, a device could be endless) ({@link #check}).
 * A name that is fine but whose file does not exist is not an error here: callers count it as a skipped input.
 */
public final class InputPaths {
  private InputPaths() {}

  /**
   * {@code name} under {@code root}, normalised; {@code where} ("file:line") starts the error message.
   *
   * @throws UserInputException when the name is not a relative path that stays inside {@code root}
   */
  public static Path resolve(Path root, String name, String where) {
    if (name.isEmpty()) throw new UserInputException(where + ": empty file name");
    if (name.indexOf('\0') >= 0)
      throw new UserInputException(where + ": file name " + Escape.quote(name) + " holds a NUL character");
    Path rel;
    try {
      rel = root.getFileSystem().getPath(name);
    } catch (InvalidPathException e) {
      throw new UserInputException(where + ": file name " + Escape.quote(name) + " is not a valid path");
    }
    if (rel.isAbsolute() || name.startsWith("/") || name.startsWith("\\"))
      throw new UserInputException(where + ": file name " + Escape.quote(name) + " is an absolute path; names are"
          + " read relative to " + Escape.text(root.toString()));
    Path base = root.toAbsolutePath().normalize();
    Path p = base.resolve(rel).normalize();
    if (!p.startsWith(base) || p.equals(base))
      throw new UserInputException(where + ": file name " + Escape.quote(name) + " leaves "
          + Escape.text(root.toString()));
    return p;
  }

  /**
   * {@code file} (from {@link #resolve}) checked on disk: its real path (symbolic links followed) is inside the real
   * {@code root} and it is a regular file. Returns null when nothing is there (a missing or dangling name).
   */
  public static Path check(Path root, Path file, String where) {
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS) || !Files.exists(file)) return null;
    Path real;
    Path realRoot;
    try {
      real = file.toRealPath();
      realRoot = root.toRealPath();
    } catch (IOException e) {
      return null;
    }
    if (!real.startsWith(realRoot))
      throw new UserInputException(where + ": " + Escape.text(file.toString()) + " is a link to "
          + Escape.text(real.toString()) + ", outside " + Escape.text(root.toString()));
    try {
      BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
      if (!a.isRegularFile())
        throw new UserInputException(where + ": " + Escape.text(file.toString()) + " is " + kind(a)
            + ", not a regular file");
    } catch (IOException e) {
      return null;
    }
    return real;
  }

  /** What a non-regular file is, for messages. */
  public static String kind(BasicFileAttributes a) {
    if (a.isDirectory()) return "a directory";
    if (a.isSymbolicLink()) return "a symbolic link";
    if (a.isOther()) return "a special file (FIFO, socket or device)";
    return "not a regular file";
  }

  /**
   * An input file given on the command line (for {@code option}) must be a regular file: a FIFO or device would
   * block or never end, a folder cannot be parsed.
   */
  public static Path requireRegularFile(Path p, String option) {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(p, BasicFileAttributes.class);
    } catch (IOException e) {
      throw new UserInputException(option + " " + Escape.text(p.toString()) + ": no such file");
    }
    if (!a.isRegularFile())
      throw new UserInputException(option + " " + Escape.text(p.toString()) + ": " + kind(a) + ", expected a file");
    return p;
  }
}

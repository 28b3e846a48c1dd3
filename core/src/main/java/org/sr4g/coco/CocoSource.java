package org.sr4g.coco;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.sr4g.UserInputException;

/** A COCO annotation file, on disk or in memory (the built-in sample), with the name used in messages. */
public final class CocoSource {
  /** Opens the bytes of a source; may be called more than once (reading and hashing run in parallel). */
  public interface Opener {
    InputStream open() throws IOException;
  }

  private final String name;
  private final Opener opener;
  private final long size;
  private final Path path;

  private CocoSource(String name, Opener opener, long size, Path path) {
    this.name = name;
    this.opener = opener;
    this.size = size;
    this.path = path;
  }

  /** A file on disk; a missing or unreadable file is a {@link UserInputException} naming it. */
  public static CocoSource of(Path path) {
    if (!Files.exists(path)) throw new UserInputException(path + ": no such file");
    if (Files.isDirectory(path)) throw new UserInputException(path + ": is a directory, expected a COCO JSON file");
    if (!Files.isReadable(path)) throw new UserInputException(path + ": not readable");
    long size;
    try {
      size = Files.size(path);
    } catch (IOException e) {
      throw new UserInputException(path + ": cannot read size: " + e.getMessage(), e);
    }
    return new CocoSource(path.toString(), () -> {
      try {
        return Files.newInputStream(path);
      } catch (NoSuchFileException e) {
        throw new UserInputException(path + ": no such file", e);
      }
    }, size, path);
  }

  /** Bytes in memory, e.g. the built-in synthetic sample. */
  public static CocoSource ofBytes(String name, byte[] bytes) {
    return new CocoSource(name, () -> new ByteArrayInputStream(bytes), bytes.length, null);
  }

  public String name() {
    return name;
  }

  public long size() {
    return size;
  }

  /** The file, or null for an in-memory source. */
  public Path path() {
    return path;
  }

  public InputStream open() throws IOException {
    return opener.open();
  }

  @Override
  public String toString() {
    return name;
  }
}

package org.sr4g.coco;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.sr4g.UserInputException;
import org.sr4g.io.InputPaths;

/** A COCO annotation file, on disk or in memory (the built-in sample), with the name used in messages. */
public final class CocoSource {
  /** Opens the bytes of a source; may be called more than once (reading and hashing run in parallel). */
  public interface Opener {
    InputStream open() throws IOException;
  }

  /** Opens bytes {@code [from, to)} of a source: what the parallel reader hands to each of its parsers. */
  public interface RangeOpener {
    InputStream open(long from, long to) throws IOException;
  }

  private final String name;
  private final Opener opener;
  private final RangeOpener ranges;
  private final long size;
  private final Path path;

  private CocoSource(String name, Opener opener, RangeOpener ranges, long size, Path path) {
    this.name = name;
    this.opener = opener;
    this.ranges = ranges;
    this.size = size;
    this.path = path;
  }

  /** A file on disk; a missing or unreadable file is a {@link UserInputException} naming it. */
  public static CocoSource of(Path path) {
    if (!Files.exists(path)) throw new UserInputException(path + ": no such file");
    if (Files.isDirectory(path)) throw new UserInputException(path + ": is a directory, expected a COCO JSON file");
    InputPaths.requireRegularFile(path, "input"); // a FIFO or device would block or never end
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
    }, (from, to) -> rangeOfFile(path, from, to), size, path);
  }

  /** Bytes in memory, e.g. the built-in synthetic sample. */
  public static CocoSource ofBytes(String name, byte[] bytes) {
    return new CocoSource(
        name,
        () -> new ByteArrayInputStream(bytes),
        (from, to) -> new ByteArrayInputStream(bytes, Math.toIntExact(from), Math.toIntExact(to - from)),
        bytes.length,
        null);
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

  public InputStream open(long from, long to) throws IOException {
    return ranges.open(from, to);
  }

  private static InputStream rangeOfFile(Path path, long from, long to) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    ch.position(from);
    InputStream in = Channels.newInputStream(ch);
    return new InputStream() {
      long left = to - from;

      @Override
      public int read() throws IOException {
        if (left <= 0) return -1;
        int b = in.read();
        if (b >= 0) left--;
        return b;
      }

      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        if (left <= 0) return -1;
        int n = in.read(buf, off, (int) Math.min(len, left));
        if (n > 0) left -= n;
        return n;
      }

      @Override
      public void close() throws IOException {
        in.close();
      }
    };
  }

  @Override
  public String toString() {
    return name;
  }
}

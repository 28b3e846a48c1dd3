package org.sr4g.coco;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
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

  /** Copies {@code len} bytes from {@code position} into {@code dst[off..]}: how the scanner reads its parts. */
  interface RangeReader {
    void read(long position, byte[] dst, int off, int len) throws IOException;
  }

  private final String name;
  private final Opener opener;
  private final RangeReader ranges;
  private final long size;
  private final Path path;

  private CocoSource(String name, Opener opener, RangeReader ranges, long size, Path path) {
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
    }, (position, dst, off, len) -> readFile(path, position, dst, off, len), size, path);
  }

  /** Bytes in memory, e.g. the built-in synthetic sample. */
  public static CocoSource ofBytes(String name, byte[] bytes) {
    return new CocoSource(
        name,
        () -> new ByteArrayInputStream(bytes),
        (position, dst, off, len) -> System.arraycopy(bytes, Math.toIntExact(position), dst, off, len),
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

  /** Reads exactly {@code len} bytes at {@code position} (the file must not have shrunk). */
  void read(long position, byte[] dst, int off, int len) throws IOException {
    ranges.read(position, dst, off, len);
  }

  private static void readFile(Path path, long position, byte[] dst, int off, int len) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      ByteBuffer buf = ByteBuffer.wrap(dst, off, len);
      while (buf.hasRemaining()) {
        if (ch.read(buf, position + buf.position() - off) < 0) throw new EOFException(path + " ended early (changed while read?)");
      }
    }
  }

  @Override
  public String toString() {
    return name;
  }
}

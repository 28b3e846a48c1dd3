package org.sr4g.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
  @Test
  void writeFolderCreatesMissingParentsAndLeavesNoStaging(@TempDir Path tmp) throws IOException {
    Path target = tmp.resolve("try/tiny-model");
    AtomicFiles.writeFolder(target, true, dir -> Files.writeString(dir.resolve("a.txt"), "one"));
    assertEquals("one", Files.readString(target.resolve("a.txt")));
    try (Stream<Path> s = Files.list(tmp.resolve("try"))) {
      assertEquals(1, s.count(), "only the folder itself: no staging sibling left");
    }
  }

  @Test
  void aFailedWriteLeavesTheOldFolderAndNoStaging(@TempDir Path tmp) throws IOException {
    Path target = tmp.resolve("model");
    AtomicFiles.writeFolder(target, false, dir -> Files.writeString(dir.resolve("a.txt"), "old"));
    assertThrows(IOException.class, () -> AtomicFiles.writeFolder(target, false, dir -> {
      Files.writeString(dir.resolve("a.txt"), "half");
      throw new IOException("disk full");
    }));
    assertEquals("old", Files.readString(target.resolve("a.txt")));
    try (Stream<Path> s = Files.list(tmp)) {
      assertTrue(s.allMatch(p -> p.equals(target)), "no staging sibling left");
    }
    assertFalse(Files.exists(tmp.resolve("model/half")));
  }
}

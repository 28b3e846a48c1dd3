package org.sr4g.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;

/** Issue 11 items 2, 9 and 14: names from data files stay under their root and name regular files. */
class InputPathsTest {
  @TempDir Path tmp;

  @Test
  void namesThatLeaveTheRootAreRefused() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("images"));
    Files.createDirectories(tmp.resolve("secret"));
    Files.writeString(tmp.resolve("secret/x.jpg"), "not yours");
    for (String bad : new String[] {"../secret/x.jpg", "/etc/passwd", "../../../../etc/passwd", "a/../../secret/x.jpg",
        "..", "."}) {
      UserInputException e = assertThrows(UserInputException.class, () -> InputPaths.resolve(root, bad, "t.jsonl:3"), bad);
      assertTrue(e.getMessage().startsWith("t.jsonl:3: "), e.getMessage());
    }
    assertEquals(root.toAbsolutePath().resolve("sub/a.jpg"), InputPaths.resolve(root, "sub/./a.jpg", "w"));
    assertEquals(root.toAbsolutePath().resolve("a.jpg"), InputPaths.resolve(root, "sub/../a.jpg", "w"));
  }

  @Test
  void aNulInANameIsAOneLineUserError() {
    UserInputException e = assertThrows(UserInputException.class,
        () -> InputPaths.resolve(tmp, "a\u0000b.jpg", "t.jsonl:1"));
    assertEquals("t.jsonl:1: file name 'a\\u0000b.jpg' holds a NUL character", e.getMessage());
  }

  @Test
  void linksOutOfTheRootFifosAndFoldersAreRefusedMissingFilesAreNot() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("images"));
    Path outside = Files.writeString(tmp.resolve("outside.jpg"), "x");
    Files.createSymbolicLink(root.resolve("link.jpg"), outside);
    Files.writeString(root.resolve("inside.jpg"), "x");
    Files.createSymbolicLink(root.resolve("ok-link.jpg"), root.resolve("inside.jpg"));
    Files.createDirectories(root.resolve("dir.jpg"));
    Fifo.make(root.resolve("fifo.jpg"));
    assertTrue(assertThrows(UserInputException.class, () -> check(root, "link.jpg")).getMessage().contains("outside"));
    assertTrue(assertThrows(UserInputException.class, () -> check(root, "fifo.jpg")).getMessage().contains("FIFO"));
    assertTrue(assertThrows(UserInputException.class, () -> check(root, "dir.jpg")).getMessage().contains("directory"));
    assertEquals(root.toRealPath().resolve("inside.jpg"), check(root, "ok-link.jpg"));
    assertNull(check(root, "missing.jpg"));
  }

  private static Path check(Path root, String name) {
    return InputPaths.check(root, InputPaths.resolve(root, name, "t"), "t");
  }
}

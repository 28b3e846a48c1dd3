package org.sr4g.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.dataset.OutputDir;

/** Issue 11 items 1, 8, 9, 11, 15 and 16: what may be an --out, staging leftovers, permissions. */
class OutputRulesTest {
  @TempDir Path tmp;

  @Test
  void nodesThatAreNotFoldersAreNeverReplacedEvenWithForce() throws Exception {
    Path fifo = Fifo.make(tmp.resolve("fifo"));
    Path devLike = Files.createSymbolicLink(tmp.resolve("null"), Path.of("/dev/null"));
    Path dangling = Files.createSymbolicLink(tmp.resolve("dangling"), tmp.resolve("nothing"));
    Path file = Files.writeString(tmp.resolve("file"), "mine");
    for (Path p : List.of(fifo, devLike, dangling, file)) {
      for (boolean force : new boolean[] {false, true}) {
        assertThrows(UserInputException.class, () -> OutputDir.prepare("generate", p, force, List.of()), p + "");
      }
    }
    assertTrue(Files.isSymbolicLink(devLike) && Files.isSymbolicLink(dangling));
    assertEquals("mine", Files.readString(file));
    assertTrue(Files.exists(fifo, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(fifo));
    assertEquals(4, list(tmp).size(), "nothing staged beside them: " + list(tmp));
  }

  @Test
  void forceReplacesOnlyAPreviousSr4gOutputAndNeverWhatHoldsAnInputTheWorkingDirOrHome() throws Exception {
    Path theirs = Files.createDirectories(tmp.resolve("theirs"));
    Files.writeString(theirs.resolve("notes.txt"), "keep");
    assertThrows(UserInputException.class, () -> OutputDir.prepare("generate", theirs, true, List.of()));
    assertEquals("keep", Files.readString(theirs.resolve("notes.txt")));

    Path ours = commitOnce(tmp.resolve("ours"));
    assertTrue(assertThrows(UserInputException.class, () -> OutputDir.prepare("generate", ours, false, List.of()))
        .getMessage().contains("--force"));
    Path input = Files.writeString(ours.resolve("input.json"), "{}");
    assertTrue(assertThrows(UserInputException.class, () -> OutputDir.prepare("generate", ours, true, List.of(input)))
        .getMessage().contains("holds the input"));
    assertTrue(Files.exists(input));
    try (OutputDir d = OutputDir.prepare("generate", ours, true, List.of())) {
      Files.writeString(d.file("new.txt"), "new");
      d.commit();
    }
    assertFalse(Files.exists(input));
    assertEquals("new", Files.readString(ours.resolve("new.txt")));

    for (String p : new String[] {"", "/", ".", System.getProperty("user.home")}) {
      assertThrows(UserInputException.class, () -> OutputDir.prepare("generate", Path.of(p), true, List.of()), p);
    }
  }

  @Test
  void runsFromBeforeTheMarkerAreStillRecognised() throws Exception {
    Path run = Files.createDirectories(tmp.resolve("run/checkpoints"));
    Files.writeString(tmp.resolve("run/metrics.jsonl"), "{}\n");
    assertEquals(OutputRules.Existing.SR4G_OUTPUT, OutputRules.checkFolder(run.getParent(), false, true, List.of()));
    Path gen = Files.createDirectories(tmp.resolve("gen"));
    Files.writeString(gen.resolve("manifest.json"), "{\n  \"tool\" : \"sr4g\",\n  \"command\" : \"generate\"\n}");
    assertTrue(OutputRules.isSr4gOutput(gen));
    Files.writeString(gen.resolve("manifest.json"), "{\"tool\": \"other\"}");
    assertFalse(OutputRules.isSr4gOutput(gen));
  }

  @Test
  void aFailedRunLeavesNeitherStagingNorTheParentsItCreated() throws Exception {
    Path target = tmp.resolve("a/b/c/out");
    try (OutputDir d = OutputDir.prepare("generate", target, false, List.of())) {
      Files.writeString(d.file("half.txt"), "x");
    }
    assertEquals(List.of(), list(tmp));
  }

  @Test
  void theNextRunRemovesStagingOfKilledRunsAndRestoresAnOutputCaughtBetweenRenames() throws Exception {
    Process dead = new ProcessBuilder("true").start();
    dead.waitFor();
    String owner = dead.pid() + "-" + dead.info().startInstant().map(i -> i.toEpochMilli()).orElse(1L) + "-abc";
    Path target = tmp.resolve("out");
    Path staleTmp = Files.createDirectories(tmp.resolve(".out" + Staging.TMP + owner));
    Files.writeString(staleTmp.resolve("train.jsonl"), "half");
    Path staleOld = commitOnce(tmp.resolve(".out" + Staging.OLD + owner));
    Path live = Files.createDirectories(Staging.newFolder(target)); // this JVM's: alive, kept
    try (OutputDir d = OutputDir.prepare("generate", target, true, List.of())) {
      assertFalse(Files.exists(staleTmp));
      assertFalse(Files.exists(staleOld), "a killed --force commit's old output is put back");
      assertTrue(OutputRules.isSr4gOutput(target));
      d.commit();
    }
    assertTrue(Files.exists(live));
    Files.delete(live);
    assertEquals(List.of(target), list(tmp));
  }

  @Test
  void outputFoldersAndFilesGetTheUmasksPermissionsNotATempFiles() throws Exception {
    Path reference = Files.createDirectory(tmp.resolve("reference"));
    Path referenceFile = Files.createFile(tmp.resolve("reference.txt"));
    Path out = commitOnce(tmp.resolve("out"));
    assertEquals(perms(reference), perms(out));
    Path f = tmp.resolve("atomic.bin");
    AtomicFiles.write(f, o -> o.write(1));
    assertEquals(perms(referenceFile), perms(f));
  }

  private static String perms(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  private static Path commitOnce(Path target) throws Exception {
    try (OutputDir d = OutputDir.prepare("generate", target, false, List.of())) {
      Files.writeString(d.file("x.txt"), "x");
      d.commit();
    }
    return target;
  }

  private static List<Path> list(Path dir) throws Exception {
    try (var s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }
}

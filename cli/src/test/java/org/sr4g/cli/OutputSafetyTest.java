package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.io.Fifo;
import org.sr4g.torch.NativeAssume;

/**
 * Issue 11 items 1, 9, 11 and 15: the README's commands with --out at a FIFO, at a /dev/null-like node (a link to
 * /dev/null made in the temp folder), at a dangling link and at the inputs' folder, with and without --force. Each is
 * one user error (exit 2, one line) and leaves the whole temp folder as it was, byte for byte (tree hash).
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class OutputSafetyTest {
  @TempDir Path world;

  /** Inputs in world/in, hostile targets beside them. */
  private Path in;
  private List<Path> hostile;

  private void setUp(boolean model) throws Exception {
    in = Files.createDirectories(world.resolve("in"));
    assertEquals(0, CliRun.of("synth", "--images", "30", "--seed", "3", "--out", in.resolve("train.json").toString()).code());
    Path gen = world.resolve("gen");
    assertEquals(0, CliRun.of("generate", "--train", in.resolve("train.json").toString(), "--eval",
        in.resolve("train.json").toString(), "--out", gen.toString(), "-q").code());
    Files.copy(gen.resolve("prompts_test.jsonl"), in.resolve("prompts.jsonl"));
    assertEquals(0, CliRun.of("eval", "synth", "--prompts", in.resolve("prompts.jsonl").toString(), "--out",
        in.resolve("dets.jsonl").toString()).code());
    Path ev = world.resolve("ev");
    assertEquals(0, CliRun.of("eval", "--prompts", in.resolve("prompts.jsonl").toString(), "--detections",
        in.resolve("dets.jsonl").toString(), "--out", ev.toString(), "--quiet").code());
    Files.copy(ev.resolve("metrics.json"), in.resolve("metrics.json"));
    if (model) {
      RandomModelFolder.write(in.resolve("model"), 5);
      Path images = Files.createDirectories(in.resolve("images"));
      java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
      javax.imageio.ImageIO.write(img, "png", images.resolve("a.png").toFile());
      Files.writeString(in.resolve("train.jsonl"), "{\"file_name\":\"a.png\",\"caption\":\"a cat to the left of a dog\"}\n");
    }
    hostile = List.of(Fifo.make(world.resolve("fifo")),
        Files.createSymbolicLink(world.resolve("null"), Path.of("/dev/null")),
        Files.createSymbolicLink(world.resolve("dangling"), world.resolve("nothing-here")), in);
  }

  private String p(String name) {
    return in.resolve(name).toString();
  }

  /** Commands as the README shows them; "OUT" is replaced by the target. */
  private List<String[]> commands() {
    return List.of(
        new String[] {"generate", "--train", p("train.json"), "--eval", p("train.json"), "--out", "OUT", "-q"},
        new String[] {"generate", "--train", p("train.json"), "--out", "OUT", "-q", "--force"},
        new String[] {"eval", "--prompts", p("prompts.jsonl"), "--detections", p("dets.jsonl"), "--out", "OUT", "--quiet"},
        new String[] {"eval", "--prompts", p("prompts.jsonl"), "--detections", p("dets.jsonl"), "--out", "OUT", "--force"},
        new String[] {"eval", "--compare", p("metrics.json"), p("metrics.json"), "--out", "OUT", "--force"},
        new String[] {"eval", "synth", "--prompts", p("prompts.jsonl"), "--out", "OUT"},
        new String[] {"prompts", "sr2d", "--out", "OUT"},
        new String[] {"synth", "--images", "5", "--out", "OUT"});
  }

  private List<String[]> modelCommands() {
    return List.of(
        new String[] {"sample", "--model", p("model"), "--prompt", "a cat", "--out", "OUT", "--steps", "1", "--width",
            "8", "--height", "8", "--images-per-prompt", "1"},
        new String[] {"train", "--model", p("model"), "--data", p("train.jsonl"), "--images", p("images"), "--out", "OUT",
            "--resolution", "16", "--max-steps", "1", "--quiet"},
        new String[] {"cache", "--model", p("model"), "--data", p("train.jsonl"), "--images", p("images"), "--out", "OUT",
            "--resolution", "16", "--quiet"});
  }

  @Test
  void readmeCommandsNeverReplaceANodeTheyDidNotMake() throws Exception {
    setUp(false);
    refuseEveryHostileTarget(commands());
  }

  @Test
  void modelCommandsNeverReplaceANodeTheyDidNotMake() throws Exception {
    NativeAssume.torch();
    setUp(true);
    refuseEveryHostileTarget(modelCommands());
  }

  private void refuseEveryHostileTarget(List<String[]> commands) throws Exception {
    String before = treeHash(world);
    for (String[] cmd : commands) {
      for (Path target : hostile) {
        String[] args = cmd.clone();
        for (int i = 0; i < args.length; i++) if (args[i].equals("OUT")) args[i] = target.toString();
        CliRun r = CliRun.of(args);
        String what = String.join(" ", args) + "\n" + r.out() + r.err();
        assertEquals(2, r.code(), what);
        assertEquals(1, r.err().lines().count(), what);
        assertTrue(r.err().contains(": error: --out "), what);
        assertEquals(before, treeHash(world), "changed by: " + what);
      }
    }
    assertFalse(Files.isRegularFile(Path.of("/dev/null")));
  }

  @Test
  void forceReplacesOnlyItsOwnOutputAndNeverTheWorkingDirectoryOrRoot() throws Exception {
    setUp(false);
    Path out = world.resolve("out");
    String[] gen = {"generate", "--train", p("train.json"), "--out", out.toString(), "-q"};
    assertEquals(0, CliRun.of(gen).code());
    String before = treeHash(world);
    CliRun again = CliRun.of(gen);
    assertEquals(2, again.code());
    assertTrue(again.err().contains("use --force"), again.err());
    assertEquals(before, treeHash(world));
    String[] force = {"generate", "--train", p("train.json"), "--out", out.toString(), "-q", "--force"};
    assertEquals(0, CliRun.of(force).code());
    try (Stream<Path> s = Files.list(world)) {
      assertEquals(List.of("dangling", "ev", "fifo", "gen", "in", "null", "out"),
          s.map(x -> x.getFileName().toString()).sorted().toList(), "no staging left beside --out");
    }
    List<String> cwd = names(Path.of(""));
    for (String target : new String[] {"", "/", "."}) {
      CliRun r = CliRun.of("generate", "--train", p("train.json"), "--out", target, "-q", "--force");
      assertEquals(2, r.code(), target + r.err());
      assertEquals(1, r.err().lines().count(), r.err());
    }
    assertEquals(cwd, names(Path.of("")));
  }

  @Test
  void aFailedRunLeavesNoParentFoldersAndEvalOutAtAFileIsOneLine() throws Exception {
    setUp(false);
    Files.writeString(in.resolve("bad.json"), "{\"images\": [}");
    String before = treeHash(world);
    CliRun r = CliRun.of("generate", "--train", p("bad.json"), "--out", world.resolve("a/b/c").toString(), "-q");
    assertEquals(2, r.code(), r.err());
    assertEquals(before, treeHash(world), "no a/b left behind");
    r = CliRun.of("eval", "--prompts", p("prompts.jsonl"), "--detections", p("dets.jsonl"), "--out", p("dets.jsonl"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("is a regular file") || r.err().contains("expected a folder"), r.err());
    assertEquals(before, treeHash(world));
  }

  @Test
  void sampleRefusingItsPromptsLeavesNoFolderAndEchoesPromptsEscaped() throws Exception {
    NativeAssume.torch();
    Path model = RandomModelFolder.write(world.resolve("model"), 5);
    Path prompts = Files.writeString(world.resolve("p.jsonl"), "{\"unique_id\": 1, \"num_objects\": 1,"
        + " \"obj_1_attributes\": [\"cat\"], \"text\": \"  \"}\n");
    Path out = world.resolve("images");
    CliRun r = CliRun.of("sample", "--model", model.toString(), "--prompts", prompts.toString(), "--out", out.toString(),
        "--steps", "1", "--width", "8", "--height", "8");
    assertEquals(2, r.code(), r.err());
    assertFalse(Files.exists(out), "no empty --out after a user error");
    r = CliRun.of("sample", "--model", model.toString(), "--prompt", "a cat\u001b[2J\nrm -rf" + "x".repeat(5000),
        "--out", out.toString(), "--steps", "1", "--width", "8", "--height", "8", "--images-per-prompt", "1");
    assertEquals(0, r.code(), r.err());
    String progress = r.out().lines().filter(l -> l.startsWith("[1/1]")).findFirst().orElseThrow();
    assertTrue(progress.contains("a cat\\u001b[2J\\u000arm -rf") && progress.length() < 400, progress);
    assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(Files.createDirectory(world.resolve("ref")))),
        PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir.toAbsolutePath())) {
      return s.map(x -> x.getFileName().toString()).sorted().toList();
    }
  }

  /** Every path under {@code root} (links not followed) with its kind, permissions, link target and content hash. */
  static String treeHash(Path root) throws Exception {
    MessageDigest all = MessageDigest.getInstance("SHA-256");
    List<Path> paths = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted().forEach(paths::add);
    }
    for (Path p : paths) {
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      String kind = a.isSymbolicLink() ? "link:" + Files.readSymbolicLink(p) : a.isDirectory() ? "dir" : a.isOther() ? "other" : "file";
      String perms = a.isSymbolicLink() ? "" : PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
      all.update((root.relativize(p) + "|" + kind + "|" + perms + "|").getBytes());
      if (a.isRegularFile()) {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        try (InputStream is = Files.newInputStream(p)) {
          d.update(is.readAllBytes());
        }
        all.update(d.digest());
      }
    }
    return HexFormat.of().formatHex(all.digest());
  }
}

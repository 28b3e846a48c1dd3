package org.sr4g.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The training run of the ahead-of-time cache (JEP 483/514/515; {@code scripts/aot-cache.sh} runs it at build time
 * with {@code -XX:AOTCacheOutput}): the commands people start most, run once each on small inputs, so that the cache
 * holds their classes loaded and linked and their hot methods' profiles. It runs {@code synth}, {@code generate} on
 * that file (the file-reading path: scanner parts, FileChannel writes) and on the built-in sample, and {@code --help}.
 * Not a user command: the launcher never calls it.
 */
public final class AotTraining {
  private AotTraining() {}

  /** {@code args[0]}: an empty scratch folder (the caller deletes it). */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) throw new IllegalArgumentException("usage: AotTraining SCRATCH_DIR");
    Path dir = Path.of(args[0]);
    Files.createDirectories(dir);
    PrintStream out = System.out;
    System.setOut(new PrintStream(OutputStream.nullOutputStream()));
    try {
      Path train = dir.resolve("train.json"), eval = dir.resolve("eval.json");
      check(Sr4g.run("synth", "--images", "3000", "--seed", "1", "--out", train.toString()));
      check(Sr4g.run("synth", "--images", "300", "--seed", "2", "--out", eval.toString()));
      for (int i = 0; i < 3; i++) {
        check(Sr4g.run("generate", "-q", "--train", train.toString(), "--eval", eval.toString(), "--out", dir.resolve("out" + i).toString()));
      }
      check(Sr4g.run("generate", "-q", "--emit", "all", "--train", train.toString(), "--out", dir.resolve("all").toString()));
      check(Sr4g.run("generate", "-q", "--out", dir.resolve("sample").toString()));
      check(Sr4g.run("--help"));
      check(Sr4g.run("generate", "--help"));
    } finally {
      System.setOut(out);
    }
  }

  private static void check(int code) {
    if (code != 0) throw new IllegalStateException("training command failed with exit code " + code);
  }
}

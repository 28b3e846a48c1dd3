package org.sr4g.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.geometry.BoxTable;
import org.sr4g.relations.RelationKernel;
import org.sr4g.relations.RelationRules;
import org.sr4g.testing.RelationTestTables;

/**
 * Without a GPU the relation kernel's source is still checked. src/test/c/emulate_relations.cpp compiles
 * sr4g_kernels.cu with g++ (no FMA contraction) and runs every CUDA "thread" in a loop, on exactly the arguments
 * {@link CudaRelationKernel} passes to the GPU (its columns, tolerance and bit struct) and on the tables the vector
 * kernel is tested on; the masks must equal {@link RelationKernel#scalar()}'s bit for bit. Where nvcc exists, the
 * kernel's PTX is also checked to hold no float operation that could round differently from Java.
 */
class CudaRelationKernelSourceTest {
  private static final Path CU = Path.of("src/main/cuda/sr4g_kernels.cu").toAbsolutePath();
  private static final Path EMULATOR = Path.of("src/test/c/emulate_relations.cpp").toAbsolutePath();

  @Test
  void kernelSourceOnTheCpuEqualsScalarOnTheTestTables(@TempDir Path tmp) throws Exception {
    Assumptions.assumeTrue(Files.exists(CU) && Files.exists(EMULATOR), "run from the native module directory");
    Path exe = tmp.resolve("emulate_relations");
    run(tmp.resolve("g++.log"), "g++ (the C++ compiler)", "g++", "-O2", "-ffp-contract=off",
        "-DSR4G_KERNELS_CU=\"" + CU + "\"", "-o", exe.toString(), EMULATOR.toString());

    List<BoxTable> tables = new ArrayList<>();
    for (int n : RelationTestTables.GRID_SIZES) tables.addAll(RelationTestTables.tieHeavyGrid(n, 200));
    for (int n : RelationTestTables.RANDOM_SIZES) tables.addAll(RelationTestTables.random(n, 300));
    Path in = tmp.resolve("tables.txt"), out = tmp.resolve("masks.txt");
    writeInput(in, tables);
    Process p = new ProcessBuilder(exe.toString()).redirectInput(in.toFile()).redirectOutput(out.toFile())
        .redirectError(tmp.resolve("emulator.err").toFile()).start();
    assertEquals(0, p.waitFor(), () -> "emulator failed: " + read(tmp.resolve("emulator.err")));

    long pairs = 0;
    try (BufferedReader r = Files.newBufferedReader(out, StandardCharsets.US_ASCII)) {
      for (BoxTable t : tables) {
        int n = t.size();
        int[] masks = new int[n * n];
        for (int i = 0; i < masks.length; i++) masks[i] = Integer.parseUnsignedInt(r.readLine());
        RelationTestTables.assertOracleMasks(t, masks, "cuda source on the cpu");
        pairs += masks.length;
      }
      assertEquals(null, r.readLine(), "no masks beyond the last table");
    }
    assertEquals(3_746_400, pairs, "200 grid tables per size and 300 random ones: every pair compared");
  }

  /**
   * The GPU build's float arithmetic, read from its PTX: only round-to-nearest additions and subtractions (no fused
   * multiply-add, no flush-to-zero), minima, maxima, negations and comparisons, which IEEE defines exactly as Java
   * does. Skips without nvcc (CI has none), also under CI=true.
   */
  @Test
  void ptxHoldsOnlyExactlyRoundedFloatOperations(@TempDir Path tmp) throws Exception {
    Path nvcc = nvcc();
    Assumptions.assumeTrue(nvcc != null, "nvcc not found ($NVCC, PATH, /usr/local/cuda/bin): the PTX check needs the CUDA toolkit");
    Path ptx = tmp.resolve("sr4g_kernels.ptx");
    // The flags of native/build-native.sh that change code generation, for the PTX it embeds (compute_90).
    run(tmp.resolve("nvcc.log"), "nvcc", nvcc.toString(), "-ptx", "-fmad=false", "-arch=compute_90", "-o", ptx.toString(),
        CU.toString());
    String text = Files.readString(ptx);
    Matcher body = Pattern.compile("\\.entry sr4g_relations\\((.*?)\\n}", Pattern.DOTALL).matcher(text);
    assertTrue(body.find(), "sr4g_relations in the PTX");
    Set<String> floatOps = new TreeSet<>();
    Matcher op = Pattern.compile("(?m)^\\s+(?:@%p\\d+\\s+)?([a-z]+(?:\\.[a-z0-9]+)*\\.f32)\\b").matcher(body.group(1));
    while (op.find()) floatOps.add(op.group(1));
    Set<String> exact = Set.of("add.rn.f32", "sub.rn.f32", "min.f32", "max.f32", "neg.f32", "ld.global.nc.f32",
        "ld.param.f32", "setp.gt.f32", "setp.ge.f32", "setp.lt.f32", "setp.le.f32", "setp.eq.f32", "setp.neu.f32");
    assertFalse(floatOps.isEmpty());
    for (String o : floatOps) assertTrue(exact.contains(o), "float operation " + o + " in sr4g_relations: " + floatOps);
    assertFalse(body.group(1).contains(".ftz"), "flush-to-zero would differ from Java on subnormals");
  }

  /** The emulator's input: the kernel's scalar arguments once, then every table as the kernel's columns. */
  private static void writeInput(Path in, List<BoxTable> tables) throws IOException {
    try (BufferedWriter w = Files.newBufferedWriter(in, StandardCharsets.US_ASCII)) {
      w.write(hex(RelationRules.TOLERANCE));
      for (int bit : CudaRelationKernel.bitsInStructOrder()) w.write(" " + bit);
      w.write("\n" + tables.size() + "\n");
      for (BoxTable t : tables) {
        w.write(Integer.toString(t.size()));
        for (float v : CudaRelationKernel.columns(t)) w.write(" " + hex(v));
        w.write('\n');
      }
    }
  }

  private static String hex(float v) {
    return Integer.toHexString(Float.floatToRawIntBits(v));
  }

  private static void run(Path log, String tool, String... command) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    } catch (IOException e) {
      String why = tool + " not available: " + e.getMessage();
      if ("true".equalsIgnoreCase(System.getenv("CI")) && !tool.equals("nvcc")) Assertions.fail(why + " — required when CI=true");
      Assumptions.abort(why);
      return;
    }
    assertEquals(0, p.waitFor(), () -> String.join(" ", command) + "\n" + read(log));
  }

  private static Path nvcc() {
    String env = System.getenv("NVCC");
    if (env != null && !env.isBlank() && Files.isExecutable(Path.of(env))) return Path.of(env);
    for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/local/cuda/bin").split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, "nvcc");
      if (Files.isExecutable(p)) return p;
    }
    return null;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return "(" + e + ")";
    }
  }
}

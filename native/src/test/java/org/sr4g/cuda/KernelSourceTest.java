package org.sr4g.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Without a GPU, the relation kernel's source is still checked: src/test/c/emulate_relations.cpp compiles
 * sr4g_kernels.cu with g++ (no FMA contraction), runs every CUDA "thread" in a loop, and must give the Java rules'
 * masks bit for bit. The GPU itself is covered by KernelsTest where a device exists.
 */
class KernelSourceTest {
  @Test
  void kernelSourceEmulatedOnCpuEqualsJavaRules() throws Exception {
    Path cu = Path.of("src/main/cuda/sr4g_kernels.cu").toAbsolutePath();
    Path emu = Path.of("src/test/c/emulate_relations.cpp").toAbsolutePath();
    Assumptions.assumeTrue(Files.exists(cu) && Files.exists(emu), "run from the native module directory");
    Path exe = Path.of("target/emulate_relations").toAbsolutePath();
    Process cc;
    try {
      cc = new ProcessBuilder("g++", "-O2", "-ffp-contract=off", "-DSR4G_KERNELS_CU=\"" + cu + "\"", "-o", exe.toString(),
          emu.toString()).redirectErrorStream(true).start();
    } catch (IOException e) {
      Assumptions.abort("g++ not available: " + e.getMessage());
      return;
    }
    String ccOut = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, cc.waitFor(), ccOut);

    int n = 300;
    float[] b = new float[4 * n];
    Random r = new Random(1);
    for (int i = 0; i < n; i++) {
      b[4 * i] = r.nextInt(640);
      b[4 * i + 1] = r.nextInt(480);
      b[4 * i + 2] = 1 + r.nextInt(300);
      b[4 * i + 3] = 1 + r.nextInt(300);
    }
    for (int i = 0; i < 20; i++) { // near-duplicates: the tolerance and strict-comparison edges
      b[4 * (i + 20)] = b[4 * i] + (i % 3);
      b[4 * (i + 20) + 1] = b[4 * i + 1];
      b[4 * (i + 20) + 2] = b[4 * i + 2] - (i % 2);
      b[4 * (i + 20) + 3] = b[4 * i + 3];
    }
    StringBuilder in = new StringBuilder(n + " 640 480\n");
    for (float v : b) in.append(v).append('\n'); // Float.toString round-trips exactly through scanf("%f")
    Process p = new ProcessBuilder(exe.toString()).start();
    try (Writer w = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.US_ASCII)) {
      w.write(in.toString());
    }
    List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).lines().toList();
    assertEquals(0, p.waitFor());
    int[] emulated = lines.stream().mapToInt(Integer::parseUnsignedInt).toArray();
    assertArrayEquals(RelationKernel.cpu(b, 640, 480), emulated);
  }
}

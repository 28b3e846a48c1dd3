package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * scripts/UpgradeOldClasses.java, which scripts/aot-cache.sh runs on the shaded jar so that the AOT cache can hold
 * picocli's Java 5 classes: run on picocli's own jar, it must leave no old class, and the rewritten classes must load
 * and pass the JVM's verifier (which checks the generated stack maps) when picocli parses and prints help.
 */
class OldClassUpgradeTest {
  private static final Path SCRIPT = Path.of("..", "scripts", "UpgradeOldClasses.java").toAbsolutePath().normalize();

  @Test
  void picocliBecomesJava8BytecodeThatTheVerifierAccepts(@TempDir Path tmp) throws Exception {
    Path picocli = Path.of(CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    assertTrue(Files.isRegularFile(picocli), "picocli comes from a jar: " + picocli);
    Path jar = Files.copy(picocli, tmp.resolve("picocli.jar"));
    assertTrue(oldestMajor(jar) < 50, "picocli still ships old classes; this test would prove nothing");

    String out = run(List.of(java(), SCRIPT.toString(), jar.toString()));
    assertTrue(out.matches("old classes: \\d{3} rewritten as Java 8 bytecode\\R"), out);
    assertEquals(52, oldestMajor(jar));

    // The JVM verifies every class outside the JDK; -Xshare:off so nothing comes from a cache.
    String help = run(List.of(java(), "-Xshare:off", "-cp", jar.toString(), "picocli.AutoComplete", "--help"));
    assertTrue(help.startsWith("Usage: picocli.AutoComplete"), help);
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    return out;
  }

  private static int oldestMajor(Path jar) throws IOException {
    int oldest = Integer.MAX_VALUE;
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
        ZipEntry entry = e.nextElement();
        if (!entry.getName().endsWith(".class") || entry.getName().endsWith("module-info.class")) continue;
        try (InputStream in = zip.getInputStream(entry)) {
          DataInputStream data = new DataInputStream(in);
          data.readInt(); // 0xCAFEBABE
          data.readUnsignedShort(); // minor
          oldest = Math.min(oldest, data.readUnsignedShort());
        }
      }
    }
    return oldest;
  }
}

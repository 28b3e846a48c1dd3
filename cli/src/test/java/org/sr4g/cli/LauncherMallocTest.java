package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** scripts/malloc.sh, which ./sr4g sources: what it preloads and what it says for each SR4G_MALLOC. */
class LauncherMallocTest {
  private static final Path SCRIPT = Path.of("..", "scripts", "malloc.sh").toAbsolutePath().normalize();

  /** {LD_PRELOAD, SR4G_MALLOC_STATUS, stderr} after sourcing the script with {@code env} (tcmalloc path stubbed). */
  private static String[] run(Map<String, String> env, String tcmallocPath) throws IOException, InterruptedException {
    String stub = tcmallocPath == null ? "" : "sr4g_tcmalloc_path() { echo '" + tcmallocPath + "'; }; ";
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", ". '" + SCRIPT + "'; " + stub
        + "sr4g_preload_malloc; printf '%s\\n%s\\n' \"${LD_PRELOAD:-}\" \"$SR4G_MALLOC_STATUS\"");
    pb.environment().remove("LD_PRELOAD");
    pb.environment().remove("SR4G_MALLOC");
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), err);
    String[] lines = out.split("\n", -1);
    return new String[] {lines[0], lines[1], err};
  }

  @Test
  void preloadsTcmallocSaysWhyNotAndHonoursTheOptOut() throws Exception {
    Assumptions.assumeTrue(Files.isRegularFile(SCRIPT), "no " + SCRIPT);
    Path fake = Files.createTempFile("libtcmalloc_minimal", ".so");
    try {
      String[] r = run(Map.of(), fake.toString());
      assertEquals(fake.toString(), r[0]);
      assertEquals("preloaded " + fake, r[1]);
      assertTrue(r[2].isEmpty(), r[2]);
      r = run(Map.of("LD_PRELOAD", "/other.so"), fake.toString()); // kept, ours first
      assertEquals(fake + ":/other.so", r[0]);
      r = run(Map.of("SR4G_MALLOC", "system"), fake.toString());
      assertEquals("", r[0]);
      assertEquals("glibc malloc (SR4G_MALLOC=system)", r[1]);
      assertTrue(r[2].isEmpty(), "the opt-out is silent: " + r[2]);
      r = run(Map.of(), "");  // not installed: glibc's, with one line naming the package
      assertEquals("", r[0]);
      assertTrue(r[2].contains("libtcmalloc_minimal.so.4 not found (apt-get install -y libtcmalloc-minimal4)")
          && r[2].lines().count() == 1, r[2]);
      r = run(Map.of("SR4G_MALLOC", fake.toString()), null); // another library by path
      assertEquals(fake.toString(), r[0]);
      r = run(Map.of("SR4G_MALLOC", "bogus"), null);
      assertEquals("", r[0]);
      assertTrue(r[2].contains("SR4G_MALLOC=bogus is neither tcmalloc, system nor a library file"), r[2]);
    } finally {
      Files.deleteIfExists(fake);
    }
  }
}

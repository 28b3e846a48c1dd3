package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AllocatorTest {
  @Test
  void findsTheMappedAllocatorElseGlibc() {
    String tc = "7f3a1c000000-7f3a1c021000 r-xp 00000000 08:01 1234 /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4.5.10";
    String libc = "7f3a1b000000-7f3a1b1c0000 r-xp 00000000 08:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6";
    Allocator a = Allocator.fromMaps(List.of(libc, "7ffd3000-7ffd4000 rw-p 00000000 00:00 0 [stack]", tc), "");
    assertEquals("tcmalloc", a.name());
    assertEquals("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4.5.10", a.library());
    assertFalse(a.isGlibc());
    assertEquals("jemalloc", Allocator.fromMaps(List.of("1-2 r-xp 0 0 0 /opt/lib/libjemalloc.so.2"), "").name());
    Allocator g = Allocator.fromMaps(List.of(libc), "glibc malloc (SR4G_MALLOC=system)");
    assertTrue(g.isGlibc());
    assertTrue(g.describe().contains("WARNING") && g.describe().contains("SR4G_MALLOC=system"), g.describe());
  }

  @Test
  void theTestJvmRunsWhatThePomPreloads() {
    // surefire preloads tcmalloc where it is installed (the tcmalloc-* profiles of the root pom), as ./sr4g does.
    String preload = System.getenv().getOrDefault("LD_PRELOAD", "");
    Allocator a = Allocator.active();
    if (preload.contains("tcmalloc")) assertEquals("tcmalloc", a.name(), a.toString());
    else assertTrue(a.isGlibc() || !a.library().isEmpty(), a.toString());
  }
}

package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BlasTest {
  @Test
  void namesWhatTheLibraryIs() {
    assertEquals("openblas", new Blas("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", 1).kind());
    assertEquals("openblas", new Blas("/opt/x/libopenblas.so.0", -1).kind());
    Blas ref = new Blas("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", -1);
    assertEquals("reference", ref.kind());
    assertTrue(ref.isReference());
    assertTrue(ref.describe().contains("libopenblas0-pthread"), ref.describe());
    assertEquals("builtin", new Blas("", -1).kind());
    assertEquals("openblas (2 thread(s))", new Blas("/x/openblas-pthread/libblas.so.3", 2).label());
    assertEquals("reference", ref.label());
    assertEquals("other", new Blas("/opt/blis/libblas.so.3", -1).kind());
  }

  @Test
  void openBlasThreadsFollowLibtorch() {
    NativeAssume.torch();
    Blas b = Torch.blas();
    assertTrue(Set.of("openblas", "reference", "other", "builtin").contains(b.kind()), b.toString());
    // Debian's libtorch links libblas.so.3 (a PyTorch wheel's libtorch carries its BLAS inside: "builtin").
    if (!b.library().isEmpty()) assertTrue(Files.isRegularFile(Path.of(b.library())), b.toString());
    if (b.kind().equals("openblas")) assertEquals(Torch.threads()[0], b.threads(), b.describe());
  }
}

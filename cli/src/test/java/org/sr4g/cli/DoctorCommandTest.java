package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DoctorCommandTest {
  private static String[] run(String... args) {
    CommandLine cl = Sr4g.commandLine();
    StringWriter out = new StringWriter(), err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new String[] {String.valueOf(code), out.toString(), err.toString()};
  }

  @Test
  void jsonReportsEveryPiece() throws Exception {
    String[] r = run("doctor", "--json", "--steps", "3");
    JsonNode j = new ObjectMapper().readTree(r[1]);
    for (String k : new String[] {"java", "vectorApi", "allocator", "libtorch", "cuda", "kernels", "selfTest"})
      assertTrue(j.has(k), "missing " + k + " in " + r[1]);
    // The tests run with what the pom preloads (tcmalloc where installed), as ./sr4g does; glibc's gets a warning.
    JsonNode alloc = j.get("allocator");
    if (System.getenv().getOrDefault("LD_PRELOAD", "").contains("tcmalloc"))
      assertEquals("tcmalloc", alloc.get("name").asText(), alloc.toString());
    if (alloc.get("name").asText().equals("glibc")) assertTrue(alloc.get("warning").asText().contains("slower"));
    assertTrue(j.get("java").get("version").asText().startsWith("25"));
    if (j.get("libtorch").get("available").asBoolean()) {
      assertEquals("0", r[0], r[1] + r[2]);
      JsonNode cpu = j.get("selfTest").get(0);
      assertEquals("cpu", cpu.get("device").asText());
      assertTrue(cpu.get("ok").asBoolean(), cpu.toString());
      // The c10d backends: Gloo wherever libgloo-dev was there at build time (CI installs it), NCCL only on CUDA.
      JsonNode d = j.get("distributed");
      assertTrue(d.has("gloo") && d.has("nccl"), d.toString());
      if ("true".equalsIgnoreCase(System.getenv("CI"))) assertTrue(d.get("gloo").asBoolean(), d.toString());
      if (!d.get("nccl").asBoolean()) assertTrue(d.get("ncclReason").asText().contains("NCCL"), d.toString());
    } else {
      assertTrue(j.get("libtorch").get("install").asText().contains("libtorch-dev"));
      if ("true".equalsIgnoreCase(System.getenv("CI"))) throw new AssertionError("CI must have libtorch: " + r[1]);
    }
    if (!j.get("cuda").get("available").asBoolean()) assertFalse(j.get("cuda").get("reason").asText().isBlank());
  }

  @Test
  void textMentionsEachSection() {
    String[] r = run("doctor", "--steps", "2");
    for (String k : new String[] {"java", "vector api", "allocator", "libtorch", "cuda", "kernels", "self-test"})
      assertTrue(r[1].contains(k), r[1]);
  }
}

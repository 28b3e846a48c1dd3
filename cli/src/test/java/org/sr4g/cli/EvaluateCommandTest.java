package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.detection.OwlVitFixtures;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.torch.NativeAssume;

/**
 * {@code sr4g evaluate} end to end on the CPU: the tiny random Stable Diffusion folder samples, the golden OWL-ViT
 * detects, {@code sr4g eval} scores; a rerun does no work; {@code --baseline} adds the paired comparison.
 */
class EvaluateCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static String prompt(int id, String a, String rel, String b) {
    return "{\"unique_id\": " + id + ", \"num_objects\": 2, \"obj_1_attributes\": [\"" + a + "\"], \"obj_2_attributes\": [\""
        + b + "\"], \"rel_type\": \"" + rel + "\", \"text\": \"a " + a + " " + rel + " a " + b + "\"}\n";
  }

  private static String[] args(Path sd, Path owl, Path prompts, Path out, String... more) {
    List<String> a = new ArrayList<>(List.of("evaluate", "--model", sd.toString(), "--detector", owl.toString(),
        "--prompts", prompts.toString(), "--images-per-prompt", "2", "--out", out.toString(), "--steps", "2",
        "--width", "32", "--height", "32"));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  private static Map<String, FileTime> times(Path dir) throws Exception {
    Map<String, FileTime> m = new LinkedHashMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).sorted().toList()) m.put(dir.relativize(p).toString(), Files.getLastModifiedTime(p));
    }
    return m;
  }

  @Test
  void samplesDetectsScoresAndARerunDoesNoWork(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path sd = RandomModelFolder.write(tmp.resolve("sd"), 7);
    Path owl = OwlVitFixtures.modelFolder(OwlVitFixtures.first(), tmp.resolve("owlvit"));
    Path prompts = tmp.resolve("prompts.jsonl");
    Files.writeString(prompts, prompt(0, "cat", "to the left of", "dog") + prompt(1, "person", "above", "bicycle")
        + prompt(2, "tv", "below", "hair drier"));
    Path out = tmp.resolve("eval/base");
    CliRun r = CliRun.of(args(sd, owl, prompts, out, "--seed", "1"));
    assertEquals(0, r.code(), r.out() + r.err());
    for (String stage : List.of("== sample:", "== detect:", "== eval:")) assertTrue(r.out().contains(stage), r.out());
    try (Stream<Path> s = Files.list(out.resolve("images"))) {
      assertEquals(6, s.filter(p -> p.toString().endsWith(".png")).count());
    }
    assertEquals(6, Files.readAllLines(out.resolve("detections.jsonl")).size());
    JsonNode metrics = JSON.readTree(out.resolve("eval/metrics.json").toFile());
    assertEquals(6, metrics.path("overall").path("images").asInt(), metrics.path("overall").toString());
    assertEquals(3, metrics.path("overall").path("prompts").asInt());
    assertTrue(Files.size(out.resolve("eval/report.html")) > 1000);

    Map<String, FileTime> before = times(out);
    r = CliRun.of(args(sd, owl, prompts, out, "--seed", "1"));
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("nothing to do: all 6 images already in " + out.resolve("images")), r.out());
    assertTrue(r.out().contains("nothing to do: all 6 images already in " + out.resolve("detections.jsonl")), r.out());
    assertTrue(r.out().contains("== eval: up to date"), r.out());
    assertEquals(before, times(out), "a rerun writes nothing");

    // A second model (here: other seeds) against the first as the baseline: the paired comparison.
    Path tuned = tmp.resolve("eval/tuned");
    r = CliRun.of(args(sd, owl, prompts, tuned, "--seed", "2", "--baseline", out.toString()));
    assertEquals(0, r.code(), r.out() + r.err());
    JsonNode cmp = JSON.readTree(tuned.resolve("comparison/comparison.json").toFile());
    assertFalse(cmp.isEmpty(), cmp.toString());
    assertTrue(Files.isRegularFile(tuned.resolve("comparison/report.html")));
    r = CliRun.of(args(sd, owl, prompts, tuned, "--seed", "2", "--baseline", out.toString()));
    assertTrue(r.out().contains("== compare: up to date"), r.out());
  }

  @Test
  void anOptionSampleDoesNotKnowIsRefusedBeforeAnyWork(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path prompts = tmp.resolve("prompts.jsonl");
    Files.writeString(prompts, prompt(0, "cat", "to the left of", "dog"));
    Path out = tmp.resolve("eval");
    CliRun r = CliRun.of(args(tmp.resolve("sd"), tmp.resolve("owl"), prompts, out, "--stepz", "3"));
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("sr4g evaluate: error:") && r.err().contains("--stepz"), r.err());
    assertFalse(Files.exists(out), "nothing created");
  }
}

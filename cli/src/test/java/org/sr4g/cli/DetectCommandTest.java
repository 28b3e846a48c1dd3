package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.detection.DetectionJob;
import org.sr4g.detection.OwlVitFixtures;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;
import org.sr4g.torch.NativeAssume;

/**
 * {@code sr4g detect} on the golden OWL-ViT fixture: the JSONL equals the fixture's VISOR call (same detections,
 * labels, order; boxes and scores within atol) and {@code sr4g eval} reads it; resume (rerun, and a SIGKILLed second
 * JVM) gives the file an uninterrupted run gives; bad input is named and counted or refused before any work.
 */
class DetectCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROMPT = "{\"unique_id\": 0, \"num_objects\": 2, \"obj_1_attributes\": [\"person\"],"
      + " \"obj_2_attributes\": [\"dog\"], \"rel_type\": \"to the left of\", \"text\": \"a person to the left of a dog\"}\n";

  /** The fixture's VISOR image as 0_0.png and 0_1.png (prompt 0: person to the left of dog), and the model folder. */
  private record Setup(Path fixture, Path model, Path images, Path prompts) {}

  private static Setup setup(Path tmp) throws Exception {
    NativeAssume.torch();
    Path fixture = OwlVitFixtures.first();
    Path model = OwlVitFixtures.modelFolder(fixture, tmp.resolve("owlvit"));
    Path images = Files.createDirectories(tmp.resolve("images"));
    String photo = JSON.readTree(fixture.resolve("fixture.json").toFile()).path("visor").path("image").asText();
    Files.copy(fixture.resolve(photo), images.resolve("0_0.png"));
    Files.copy(fixture.resolve(photo), images.resolve("0_1.png"));
    Path prompts = tmp.resolve("prompts.jsonl");
    Files.writeString(prompts, PROMPT);
    return new Setup(fixture, model, images, prompts);
  }

  private static String[] args(Setup s, Path out, String... more) {
    List<String> a = new ArrayList<>(List.of("detect", "--model", s.model.toString(), "--images", s.images.toString(),
        "--prompts", s.prompts.toString(), "--out", out.toString(), "--batch", "2"));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  private static List<JsonNode> lines(Path jsonl) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String l : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) out.add(JSON.readTree(l));
    return out;
  }

  @Test
  void writesTheFixturesDetectionsAndEvalReadsThem(@TempDir Path tmp) throws Exception {
    Setup s = setup(tmp);
    Path out = tmp.resolve("dets.jsonl");
    CliRun r = CliRun.of(args(s, out));
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("detected 2 images") && r.out().contains("46 detections with score > 0.1"), r.out());
    JsonNode side = JSON.readTree(s.fixture.resolve("fixture.json").toFile());
    JsonNode record = side.path("visor").path("record");
    double boxAtol = side.path("tolerance").path("atol").path("visor/boxes").asDouble();
    double scoreAtol = side.path("tolerance").path("atol").path("visor/scores").asDouble();
    float[] boxes, scores;
    try (SafetensorsFile io = SafetensorsFile.open(s.fixture.resolve("io.safetensors"))) {
      boxes = io.readFloats("visor/boxes");
      scores = io.readFloats("visor/scores");
    }
    List<JsonNode> lines = lines(out);
    assertEquals(List.of("0_0.png", "0_1.png"), lines.stream().map(n -> n.get("image").asText()).toList());
    for (JsonNode line : lines) {
      assertEquals(0, line.get("prompt_id").asInt());
      assertEquals(160, line.get("width").asInt());
      assertEquals(120, line.get("height").asInt());
      JsonNode d = line.get("detections");
      assertEquals(record.path("classes").size(), d.size(), "same count as VISOR's record");
      int k = 0;
      for (int p = 0; p < scores.length; p++) {
        if (!(scores[p] > 0.1f)) continue;
        JsonNode det = d.get(k);
        assertEquals(record.path("classes").get(k).asText(), det.get("label").asText(), "label of detection " + k);
        assertEquals(scores[p], det.get("score").asDouble(), scoreAtol);
        for (int c = 0; c < 4; c++) assertEquals(boxes[4 * p + c], det.get("box").get(c).asDouble(), boxAtol);
        k++;
      }
    }
    // sr4g eval reads it; with VISOR's centroid test both images satisfy "person to the left of dog" (sra 1).
    CliRun e = CliRun.of("eval", "--prompts", s.prompts.toString(), "--detections", out.toString(), "--visor-compat",
        "--out", tmp.resolve("eval").toString(), "--quiet");
    assertEquals(0, e.code(), e.out() + e.err());
    JsonNode overall = JSON.readTree(tmp.resolve("eval/metrics.json").toFile()).path("overall");
    assertEquals(2, overall.path("images").asInt(), overall.toString());
    assertEquals(2, overall.path("both").asInt(), overall.toString());
    assertEquals(2, overall.path("correct").asInt(), overall.toString());

    // --keep-all: every patch, for threshold sweeps.
    Path all = tmp.resolve("all.jsonl");
    r = CliRun.of(args(s, all, "--keep-all"));
    assertEquals(0, r.code(), r.out() + r.err());
    JsonNode first = lines(all).get(0).get("detections");
    assertEquals(scores.length, first.size());
    for (int p = 0; p < scores.length; p++) assertEquals(scores[p], first.get(p).get("score").asDouble(), scoreAtol);
  }

  @Test
  void rerunSkipsWhatIsDoneAndResumeRedoesOnlyTheRest(@TempDir Path tmp) throws Exception {
    Setup s = setup(tmp);
    Files.copy(s.images.resolve("0_0.png"), s.images.resolve("0_2.png"));
    Path out = tmp.resolve("dets.jsonl");
    assertEquals(0, CliRun.of(args(s, out)).code());
    byte[] whole = Files.readAllBytes(out);
    CliRun again = CliRun.of(args(s, out));
    assertEquals(0, again.code(), again.err());
    assertTrue(again.out().contains("nothing to do: all 3 images already in"), again.out());
    assertArrayEquals(whole, Files.readAllBytes(out));

    // As a killed run leaves it: the last line cut in the middle. The resume drops it and redoes that image.
    String text = new String(whole, StandardCharsets.UTF_8);
    int lastStart = text.lastIndexOf('\n', text.length() - 2) + 1;
    Files.writeString(out, text.substring(0, lastStart + 25));
    CliRun resumed = CliRun.of(args(s, out));
    assertEquals(0, resumed.code(), resumed.out() + resumed.err());
    assertTrue(resumed.err().contains("the last line was incomplete"), resumed.err());
    assertTrue(resumed.out().contains("detected 1 images") && resumed.out().contains("skipped 2 images"), resumed.out());
    assertArrayEquals(whole, Files.readAllBytes(out));

    // Other options than the file was written with: refused, nothing appended.
    CliRun other = CliRun.of(args(s, out, "--threshold", "0.2"));
    assertEquals(2, other.code(), other.out() + other.err());
    assertTrue(other.err().contains("was written with --threshold 0.1, this run has 0.2"), other.err());
    assertArrayEquals(whole, Files.readAllBytes(out));
  }

  /**
   * A real crash: `sr4g detect` in a second JVM, killed with SIGKILL as soon as its first lines are on disk; the
   * in-process resume must leave exactly the file an uninterrupted run writes (same aligned batches, same bytes).
   */
  @Test
  void resumeAfterSigkillEqualsAnUninterruptedRun(@TempDir Path tmp) throws Exception {
    Setup s = setup(tmp);
    Path photo1 = s.fixture.resolve("photo_1.png");
    Files.writeString(s.prompts, PROMPT + PROMPT.replace("\"unique_id\": 0", "\"unique_id\": 1")
        .replace("person", "cat").replace("dog", "tv"));
    for (int k = 0; k < 120; k++) {
      if (k >= 2) Files.copy(s.images.resolve("0_0.png"), s.images.resolve("0_" + k + ".png"));
      Files.copy(photo1, s.images.resolve("1_" + k + ".png"));
    }
    Path killed = tmp.resolve("killed.jsonl"), straight = tmp.resolve("straight.jsonl");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp",
        System.getProperty("java.class.path"), Sr4g.class.getName()));
    cmd.addAll(List.of(args(s, killed, "--quiet")));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (p.isAlive() && System.nanoTime() < deadline && (!Files.exists(killed) || Files.size(killed) < 2000)) Thread.sleep(2);
    assertTrue(p.isAlive(), "the child finished before it could be killed:\n" + Files.readString(tmp.resolve("child.log")));
    p.destroyForcibly(); // SIGKILL on Linux
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(137, p.exitValue(), "killed by SIGKILL");
    long before = Files.readAllLines(killed).size();
    assertTrue(before >= 1 && before < 240, before + " lines before the resume");

    CliRun resumed = CliRun.of(args(s, killed, "--quiet"));
    assertEquals(0, resumed.code(), resumed.out() + resumed.err());
    CliRun full = CliRun.of(args(s, straight, "--quiet"));
    assertEquals(0, full.code(), full.out() + full.err());
    assertEquals(240, Files.readAllLines(straight).size());
    assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(killed));
  }

  @Test
  void unreadableImagesAreNamedAndCountedOrStopTheRunWithStrict(@TempDir Path tmp) throws Exception {
    Setup s = setup(tmp);
    Files.writeString(s.images.resolve("0_2.png"), "this is not a PNG");
    byte[] png = Files.readAllBytes(s.images.resolve("0_0.png"));
    Files.write(s.images.resolve("0_3.png"), java.util.Arrays.copyOf(png, png.length / 2));
    Files.copy(s.images.resolve("0_0.png"), s.images.resolve("99_0.png"));
    Files.writeString(s.images.resolve("notes.txt"), "not an image");
    Path out = tmp.resolve("dets.jsonl");
    CliRun r = CliRun.of(args(s, out));
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("warning: skipped unreadable image: " + s.images.resolve("0_2.png") + ": not a PNG or JPEG image"),
        r.err());
    assertTrue(r.err().contains("warning: skipped unreadable image: " + s.images.resolve("0_3.png") + ": cannot decode"), r.err());
    assertTrue(r.out().contains("2 unreadable image(s) left out"), r.out());
    assertTrue(r.err().contains("2 file(s) in --images match no prompt") && r.err().contains("99_0.png"), r.err());
    assertEquals(List.of("0_0.png", "0_1.png"), lines(out).stream().map(n -> n.get("image").asText()).toList());

    Path strictOut = tmp.resolve("strict.jsonl");
    CliRun strict = CliRun.of(args(s, strictOut, "--strict"));
    assertEquals(2, strict.code(), strict.out() + strict.err());
    assertTrue(strict.err().contains("sr4g detect: error: " + s.images.resolve("0_2.png") + ": not a PNG or JPEG image (--strict)"),
        strict.err());
    assertEquals(List.of("0_0.png", "0_1.png"), lines(strictOut).stream().map(n -> n.get("image").asText()).toList(),
        "the images before the bad one are kept for a resume");
  }

  /** Wrong shapes, a missing and an unexpected weight: every key named, before any image is touched. */
  @Test
  void aBrokenModelFolderIsRefusedWholeBeforeAnyWork(@TempDir Path tmp) throws Exception {
    Setup s = setup(tmp);
    Path weights = s.model.resolve("model.safetensors");
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile in = SafetensorsFile.open(weights)) {
      for (String k : in.keys()) {
        if (k.equals("box_head.dense2.bias")) continue;
        if (k.equals("class_head.dense0.weight")) w.putF16(k, new float[16 * 32], 16, 32);
        else if (k.equals("owlvit.text_model.embeddings.position_embedding.weight")) w.putF16(k, new float[77 * 16], 77, 16);
        else w.putF16(k, in.readFloats(k), in.info(k).shape());
      }
    }
    w.putF16("box_head.dense3.weight", new float[4], 4);
    Files.delete(weights);
    w.write(weights);
    Path out = tmp.resolve("dets.jsonl");
    CliRun r = CliRun.of(args(s, out));
    assertEquals(2, r.code(), r.out() + r.err());
    for (String part : List.of("4 problem(s) in the OWL-ViT folder", "missing box_head.dense2.bias [4]",
        "wrong shape class_head.dense0.weight: [16, 32], expected [16, 64]",
        "wrong shape owlvit.text_model.embeddings.position_embedding.weight: [77, 16], expected [16, 16]",
        "unexpected box_head.dense3.weight [4]"))
      assertTrue(r.err().contains(part), r.err());
    assertFalse(Files.exists(out), "nothing written");
    assertFalse(Files.exists(DetectionJob.metaFile(out)), "nothing written");
  }

  @Test
  void anOutputFileAmongTheImagesIsNotTakenForOne(@TempDir Path tmp) throws Exception {
    Setup s = setup(tmp);
    Path out = s.images.resolve("dets.jsonl");
    for (int run = 0; run < 2; run++) {
      CliRun r = CliRun.of(args(s, out));
      assertEquals(0, r.code(), r.out() + r.err());
      assertFalse(r.err().contains("match no prompt"), r.err());
    }
    assertEquals(2, lines(out).size());
  }

  @Test
  void badOptionsAreOneLineErrors(@TempDir Path tmp) throws Exception {
    Setup s = setup(tmp);
    Path out = tmp.resolve("dets.jsonl");
    CliRun r = CliRun.of(args(s, out, "--query-template", "a photo of a"));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--query-template must contain {} exactly once"), r.err());
    r = CliRun.of(args(s, out, "--device", "cuda:7"));
    assertEquals(2, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    Files.writeString(out, "{\"image\": \"x.png\"}\n");
    r = CliRun.of(args(s, out));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("exists but was not written by sr4g detect"), r.err());
  }
}

package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.torch.NativeAssume;

/** {@code sr4g train} from the command line: options, errors, and recovery from a JVM killed with SIGKILL. */
class TrainCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static void requireTorch() {
    NativeAssume.torch();
  }

  /** Three small images, one JPEG, and a train.jsonl over them. */
  static Path setup(Path tmp) throws IOException {
    RandomModelFolder.write(tmp.resolve("model"), 3);
    Path images = Files.createDirectories(tmp.resolve("images"));
    StringBuilder rows = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      BufferedImage img = new BufferedImage(20 + 6 * i, 24, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < img.getHeight(); y++)
        for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, (x * 11 + i * 70) << 16 & 0xff0000 | (y * 9 & 255) << 8);
      String name = "im" + i + (i == 1 ? ".jpg" : ".png");
      ImageIO.write(img, i == 1 ? "jpg" : "png", images.resolve(name).toFile());
      rows.append("{\"file_name\":\"").append(name).append("\",\"caption\":\"a cat to the left of a dog\",\"relation\":\"left of\"}\n");
    }
    Files.writeString(tmp.resolve("train.jsonl"), rows);
    return tmp;
  }

  static List<String> args(Path tmp, String out, String... extra) {
    return args(tmp, out, 16, 8, extra);
  }

  static List<String> args(Path tmp, String out, int res, int steps, String... extra) {
    List<String> a = new ArrayList<>(List.of("train", "--model", tmp.resolve("model").toString(), "--data",
        tmp.resolve("train.jsonl").toString(), "--images", tmp.resolve("images").toString(), "--out",
        tmp.resolve(out).toString(), "--resolution", "" + res, "--batch-size", "2", "--max-steps", "" + steps, "--lr", "1e-3",
        "--seed", "9", "--checkpoint-every", "1", "--random-flip", "--random-crop"));
    a.addAll(List.of(extra));
    return a;
  }

  static List<Double> losses(Path metrics) throws IOException {
    List<Double> r = new ArrayList<>();
    for (String l : Files.readAllLines(metrics)) r.add(JSON.readTree(l).get("loss").asDouble());
    return r;
  }

  @Test
  void trainsWritesMetricsAndAModelThatSamples(@TempDir Path tmp) throws Exception {
    requireTorch();
    setup(tmp);
    CliRun r = CliRun.of(args(tmp, "run", 16, 3, "--checkpoints-limit", "2").toArray(String[]::new));
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("step 3/3  loss "), r.out());
    assertTrue(r.out().contains("skipped 0 unreadable or missing image(s)"), r.out());
    var row = JSON.readTree(Files.readAllLines(tmp.resolve("run/metrics.jsonl")).get(2));
    for (String k : List.of("step", "loss", "lr", "grad_norm", "step_time_ms", "data_wait_ms")) assertTrue(row.has(k), k);
    try (var s = Files.list(tmp.resolve("run/checkpoints"))) {
      assertEquals(List.of("checkpoint-2", "checkpoint-3"), s.map(p -> p.getFileName().toString()).sorted().toList());
    }
    r = CliRun.of("sample", "--model", tmp.resolve("run/model").toString(), "--prompt", "a cat to the left of a dog",
        "--out", tmp.resolve("img").toString(), "--images-per-prompt", "1", "--steps", "2", "--width", "16",
        "--height", "16");
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals(16, ImageIO.read(tmp.resolve("img/0_0.png").toFile()).getWidth());
  }

  @Test
  void gradientCheckpointingFlag(@TempDir Path tmp) throws Exception {
    requireTorch();
    setup(tmp);
    CliRun r = CliRun.of(args(tmp, "run", 16, 2, "--gradient-checkpointing", "--grad-accum", "2").toArray(String[]::new));
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("gradient checkpointing: on"), r.out());
    assertTrue(r.out().contains("step 2/2  loss "), r.out());
    var state = JSON.readTree(tmp.resolve("run/checkpoints/checkpoint-2/state.json").toFile());
    assertTrue(state.path("settings").path("gradient_checkpointing").asBoolean(false), state.toString());
  }

  @Test
  void userMistakesAreOneLine(@TempDir Path tmp) throws Exception {
    requireTorch();
    setup(tmp);
    Files.writeString(tmp.resolve("train.jsonl"), "{\"file_name\":\"im0.png\"}\n");
    CliRun r = CliRun.of(args(tmp, "run").toArray(String[]::new));
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("train.jsonl:1: missing or empty string field 'caption'"), r.err());
    setup(tmp);
    r = CliRun.of(args(tmp, "run", 18, 8).toArray(String[]::new));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("must be a multiple of 4"), r.err());
    for (String p : List.of("-0.1", "1.5")) {
      r = CliRun.of(args(tmp, "run", 16, 8, "--caption-dropout", p).toArray(String[]::new));
      assertEquals(2, r.code(), r.err());
      assertTrue(r.err().contains("--caption-dropout must be in [0, 1]"), r.err());
    }
  }

  @Test
  void mixedPrecisionBf16OnCpuAndFp16RefusedThere(@TempDir Path tmp) throws Exception {
    requireTorch();
    setup(tmp);
    CliRun r = CliRun.of(args(tmp, "fp16", 16, 2, "--mixed-precision", "fp16").toArray(String[]::new));
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("--mixed-precision fp16 needs --device cuda"), r.err());
    // With the frozen VAE and text encoder in bf16, validation samples through them too.
    r = CliRun.of(args(tmp, "bf16", 16, 2, "--mixed-precision", "bf16", "--validation-prompts", "a cat",
        "--validation-steps", "2").toArray(String[]::new));
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("step 2/2  loss "), r.out());
    assertTrue(r.out().contains("mixed precision: the frozen VAE and text encoder in bf16"), r.out());
    assertEquals(16, ImageIO.read(tmp.resolve("bf16/validation/step-2.png").toFile()).getWidth());
    assertEquals(2, losses(tmp.resolve("bf16/metrics.jsonl")).size());
    var state = JSON.readTree(tmp.resolve("bf16/checkpoints/checkpoint-2/state.json").toFile());
    assertEquals("bf16", state.get("options").get("mixed_precision").asText(), state.toString());
  }

  /**
   * A real crash: the CLI runs in a second JVM, checkpointing every step, and is killed with SIGKILL
   * ({@code destroyForcibly}) as soon as checkpoint-2 exists — wherever it is then (possibly mid-checkpoint). Resuming
   * from the newest complete checkpoint must give the same loss sequence and bit-identical weights as 8 steps straight.
   * If the child happens to die at a moment where nothing was in flight the test still checks the same thing.
   */
  @Test
  void resumeAfterSigkillIsExact(@TempDir Path tmp) throws Exception {
    requireTorch();
    setup(tmp);
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp",
        System.getProperty("java.class.path"), Sr4g.class.getName()));
    cmd.addAll(args(tmp, "killed"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile())
        .start();
    Path marker = tmp.resolve("killed/checkpoints/checkpoint-2");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
    assertTrue(p.isAlive(), "the child finished before it could be killed:\n" + Files.readString(tmp.resolve("child.log")));
    p.destroyForcibly(); // SIGKILL on Linux
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(137, p.exitValue(), "killed by SIGKILL");
    List<Double> before = losses(tmp.resolve("killed/metrics.jsonl"));
    assertTrue(before.size() >= 2 && before.size() < 8, before.toString());

    CliRun resumed = CliRun.of(args(tmp, "killed", "--resume", "latest").toArray(String[]::new));
    assertEquals(0, resumed.code(), resumed.out() + resumed.err());
    assertTrue(resumed.out().contains("resumed from"), resumed.out());
    CliRun straight = CliRun.of(args(tmp, "straight").toArray(String[]::new));
    assertEquals(0, straight.code(), straight.out() + straight.err());

    assertEquals(losses(tmp.resolve("straight/metrics.jsonl")), losses(tmp.resolve("killed/metrics.jsonl")));
    assertArrayEquals(Files.readAllBytes(tmp.resolve("straight/model/unet/diffusion_pytorch_model.safetensors")),
        Files.readAllBytes(tmp.resolve("killed/model/unet/diffusion_pytorch_model.safetensors")));
    assertArrayEquals(Files.readAllBytes(tmp.resolve("straight/checkpoints/checkpoint-8/optimizer.safetensors")),
        Files.readAllBytes(tmp.resolve("killed/checkpoints/checkpoint-8/optimizer.safetensors")));
  }

  /**
   * --train-text-encoder from the command line: OUT/model holds a changed text encoder that {@code sr4g sample}
   * loads; with --cache it is a one-line user error (exit 2).
   */
  @Test
  void trainTextEncoderPublishesItAndRefusesTheCache(@TempDir Path tmp) throws Exception {
    requireTorch();
    setup(tmp);
    // --cache and --data/--images are one exclusive option group: both, or neither, is a usage error.
    List<String> both = args(tmp, "cached", 16, 2, "--train-text-encoder", "--cache", tmp.resolve("cache").toString());
    CliRun r = CliRun.of(both.toArray(String[]::new));
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("expected only one match"), r.err());
    List<String> cacheOnly = new ArrayList<>(both);
    cacheOnly.subList(cacheOnly.indexOf("--data"), cacheOnly.indexOf("--data") + 4).clear(); // --data F --images D
    List<String> neither = new ArrayList<>(cacheOnly.subList(0, cacheOnly.indexOf("--cache")));
    r = CliRun.of(neither.toArray(String[]::new));
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("Missing required argument") && r.err().contains("--cache=DIR | [--data=FILE --images=DIR]"),
        r.err());
    r = CliRun.of(cacheOnly.toArray(String[]::new));
    assertEquals(2, r.code(), r.out() + r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("--cache holds precomputed caption embeddings: it cannot be used with --train-text-encoder"),
        r.err());
    assertTrue(Files.notExists(tmp.resolve("cached")), "refused before anything is written");

    r = CliRun.of(args(tmp, "te", 16, 3, "--train-text-encoder", "--text-encoder-lr", "2e-3").toArray(String[]::new));
    assertEquals(0, r.code(), r.out() + r.err());
    Path before = tmp.resolve("model/text_encoder"), after = tmp.resolve("te/model/text_encoder");
    assertArrayEquals(Files.readAllBytes(before.resolve("config.json")), Files.readAllBytes(after.resolve("config.json")));
    int changed = 0, total;
    try (SafetensorsFile a = SafetensorsFile.open(before.resolve("model.safetensors"));
        SafetensorsFile b = SafetensorsFile.open(after.resolve("model.safetensors"))) {
      total = b.keys().size();
      for (String k : b.keys()) if (!java.util.Arrays.equals(a.readFloats(k), b.readFloats(k))) changed++;
    }
    assertTrue(total > 10 && changed > total / 2, changed + " of " + total + " text encoder tensors changed");
    r = CliRun.of("sample", "--model", tmp.resolve("te/model").toString(), "--prompt", "a cat to the left of a dog",
        "--out", tmp.resolve("img").toString(), "--images-per-prompt", "1", "--steps", "2", "--width", "16",
        "--height", "16");
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals(16, ImageIO.read(tmp.resolve("img/0_0.png").toFile()).getWidth());
  }

  @Test
  void validationGridsAndLossChart(@TempDir Path tmp) throws Exception {
    requireTorch();
    setup(tmp);
    Files.writeString(tmp.resolve("val.txt"), "a cat to the left of a dog\n\n{\"prompt\": \"a dog above a cat\"}\na red car\n"
        + "a cup below a table\na bird to the right of a tree\n");
    CliRun r = CliRun.of(args(tmp, "run", 16, 4, "--validation-prompts",
        tmp.resolve("val.txt").toString(), "--validation-every", "3", "--validation-steps", "2").toArray(String[]::new));
    assertEquals(0, r.code(), r.out() + r.err());
    try (var s = Files.list(tmp.resolve("run/validation"))) {
      assertEquals(List.of("step-3.png", "step-4.png"), s.map(p -> p.getFileName().toString()).sorted().toList());
    }
    // 5 prompts: 4 columns × 2 rows of 16 px cells.
    BufferedImage grid = ImageIO.read(tmp.resolve("run/validation/step-3.png").toFile());
    assertEquals(64, grid.getWidth());
    assertEquals(32, grid.getHeight());
    var dbf = javax.xml.parsers.DocumentBuilderFactory.newInstance();
    dbf.setNamespaceAware(true);
    var doc = dbf.newDocumentBuilder().parse(tmp.resolve("run/loss.svg").toFile());
    assertEquals("svg", doc.getDocumentElement().getLocalName());
    var lines = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "polyline");
    assertEquals(1, lines.getLength());
    String[] pts = lines.item(0).getAttributes().getNamedItem("points").getNodeValue().trim().split("\\s+");
    assertEquals(4, pts.length);
    assertEquals(4, Files.readAllLines(tmp.resolve("run/metrics.jsonl")).size());
    for (String p : pts) assertEquals(2, p.split(",").length, p);

    // One prompt given as text: a 1×1 grid after the last step only.
    r = CliRun.of(args(tmp, "run2", 16, 1, "--validation-prompts", "a cat to the left of a dog", "--validation-steps",
        "1").toArray(String[]::new));
    assertEquals(0, r.code(), r.out() + r.err());
    BufferedImage one = ImageIO.read(tmp.resolve("run2/validation/step-1.png").toFile());
    assertEquals(16, one.getWidth());
    assertEquals(16, one.getHeight());
  }

  @Test
  void cacheGivesTheSameLossesAsTheImages(@TempDir Path tmp) throws Exception {
    requireTorch();
    setup(tmp);
    CliRun r = CliRun.of("cache", "--model", tmp.resolve("model").toString(), "--data", tmp.resolve("train.jsonl").toString(),
        "--images", tmp.resolve("images").toString(), "--out", tmp.resolve("cache").toString(), "--resolution", "16",
        "--shard-size", "2", "--batch-size", "2");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("cached 3 sample(s): 3 image(s), 1 caption(s)"), r.out());
    for (String f : List.of("index.json", "latents-00000.safetensors", "latents-00001.safetensors", "text-00000.safetensors"))
      assertTrue(Files.isRegularFile(tmp.resolve("cache").resolve(f)), f);
    assertTrue(Files.notExists(tmp.resolve(".cache.tmp")));
    List<String> common = List.of("--model", tmp.resolve("model").toString(), "--resolution", "16", "--batch-size", "2",
        "--max-steps", "5", "--lr", "1e-3", "--seed", "9", "--checkpoint-every", "0", "--quiet");
    List<String> a = new ArrayList<>(List.of("train", "--data", tmp.resolve("train.jsonl").toString(), "--images",
        tmp.resolve("images").toString(), "--out", tmp.resolve("img").toString()));
    a.addAll(common);
    r = CliRun.of(a.toArray(String[]::new));
    assertEquals(0, r.code(), r.out() + r.err());
    List<Double> fromImages = losses(tmp.resolve("img/metrics.jsonl"));
    for (String out : List.of("c1", "c2")) {
      List<String> c = new ArrayList<>(List.of("train", "--cache", tmp.resolve("cache").toString(), "--out",
          tmp.resolve(out).toString()));
      c.addAll(common);
      r = CliRun.of(c.toArray(String[]::new));
      assertEquals(0, r.code(), r.out() + r.err());
    }
    List<Double> c1 = losses(tmp.resolve("c1/metrics.jsonl")), c2 = losses(tmp.resolve("c2/metrics.jsonl"));
    assertEquals(c1, c2); // deterministic
    assertEquals(5, c1.size());
    // Same examples, same noise: equal up to the last bits of a batched vs. per-batch VAE/CLIP forward.
    for (int i = 0; i < 5; i++)
      assertEquals(fromImages.get(i), c1.get(i), 1e-4 * Math.max(1, Math.abs(fromImages.get(i))), "step " + (i + 1));
    // --caption-dropout 1 from the cache uses the empty prompt's embedding, encoded once at the start: the same
    // losses as from the images, where "" is tokenized and encoded in every batch.
    List<Double> dropped = new ArrayList<>();
    for (String out : List.of("img-drop", "c-drop")) {
      List<String> c = new ArrayList<>(List.of("train", "--out", tmp.resolve(out).toString(), "--caption-dropout", "1"));
      c.addAll(out.startsWith("img") ? List.of("--data", tmp.resolve("train.jsonl").toString(), "--images",
          tmp.resolve("images").toString()) : List.of("--cache", tmp.resolve("cache").toString()));
      c.addAll(common);
      r = CliRun.of(c.toArray(String[]::new));
      assertEquals(0, r.code(), r.out() + r.err());
    }
    List<Double> imgDrop = losses(tmp.resolve("img-drop/metrics.jsonl")), cDrop = losses(tmp.resolve("c-drop/metrics.jsonl"));
    for (int i = 0; i < 5; i++)
      assertEquals(imgDrop.get(i), cDrop.get(i), 1e-4 * Math.max(1, Math.abs(imgDrop.get(i))), "dropout, step " + (i + 1));
    assertNotEquals(c1, cDrop);
    // Options a cache cannot honour are refused in one line.
    List<String> bad = new ArrayList<>(List.of("train", "--cache", tmp.resolve("cache").toString(), "--out",
        tmp.resolve("c3").toString(), "--random-flip"));
    bad.addAll(common);
    r = CliRun.of(bad.toArray(String[]::new));
    assertEquals(2, r.code(), r.out() + r.err());
    // A cache whose embeddings do not fit the model (as one built from another model would) is refused in one line.
    Path other = tmp.resolve("cache-other");
    Files.createDirectories(other);
    try (var files = Files.list(tmp.resolve("cache"))) {
      for (Path f : files.toList()) Files.copy(f, other.resolve(f.getFileName().toString()));
    }
    Path index = other.resolve("index.json");
    Files.writeString(index, Files.readString(index).replaceFirst("\"embedding_shape\"\\s*:\\s*\\[\\s*77\\s*,\\s*\\d+",
        "\"embedding_shape\": [77, 99"));
    assertTrue(Files.readString(index).contains("[77, 99"), Files.readString(index));
    List<String> mismatch = new ArrayList<>(List.of("train", "--cache", other.toString(), "--out",
        tmp.resolve("c4").toString(), "--caption-dropout", "0.5"));
    mismatch.addAll(common);
    r = CliRun.of(mismatch.toArray(String[]::new));
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("text embeddings of width 99") && r.err().contains("rebuild the cache"), r.err());
  }
}

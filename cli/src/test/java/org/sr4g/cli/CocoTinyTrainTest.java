package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.testing.SharedData;

/**
 * End to end on real data: SR4G captions generated from the COCO tiny subset's annotations, a tiny random model
 * fine-tuned on those real JPEGs at 32 px on the CPU, then sampled. A fixed subset (8 images, one caption each) and
 * a high learning rate make it an overfitting run whose loss falls reliably; the model is random, so the samples
 * are not pictures — this checks the plumbing and that optimisation works, not image quality.
 */
class CocoTinyTrainTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void fineTuneOnCocoTinyThenSample(@TempDir Path tmp) throws Exception {
    Path ann = SharedData.require("coco/tiny/annotations/instances_train2017.json");
    Path images = SharedData.require("coco/tiny/train2017");
    TrainCommandTest.requireTorch();
    CliRun g = CliRun.of("generate", "--train", ann.toString(), "--out", tmp.resolve("sr4g").toString());
    assertEquals(0, g.code(), g.out() + g.err());
    // One row for each of the first 8 images that have a row: a fixed subset.
    List<String> subset = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (String line : Files.readAllLines(tmp.resolve("sr4g/train.jsonl"))) {
      JsonNode n = JSON.readTree(line);
      if (seen.size() < 8 && seen.add(n.get("file_name").asText())) subset.add(line);
    }
    assertEquals(8, subset.size());
    Files.write(tmp.resolve("subset.jsonl"), subset);
    RandomModelFolder.write(tmp.resolve("model"), 1);
    int steps = Integer.getInteger("sr4g.test.trainSteps", 40);
    CliRun t = CliRun.of("train", "--model", tmp.resolve("model").toString(), "--data",
        tmp.resolve("subset.jsonl").toString(), "--images", images.toString(), "--out", tmp.resolve("run").toString(),
        "--resolution", "32", "--batch-size", "8", "--max-steps", "" + steps, "--lr", "2e-3", "--seed", "1",
        "--checkpoint-every", "0", "--quiet");
    assertEquals(0, t.code(), t.out() + t.err());
    assertTrue(t.out().contains("skipped 0 unreadable"), t.out());
    List<Double> loss = new ArrayList<>();
    for (String l : Files.readAllLines(tmp.resolve("run/metrics.jsonl"))) loss.add(JSON.readTree(l).get("loss").asDouble());
    double first = mean(loss.subList(0, 5)), last = mean(loss.subList(loss.size() - 5, loss.size()));
    System.out.printf("coco tiny fine-tune: mean loss of steps 1-5 %.4f, of the last 5 %.4f; all: %s%n", first, last, loss);
    assertTrue(last < 0.5 * first, "loss should fall clearly: " + first + " -> " + last);
    CliRun s = CliRun.of("sample", "--model", tmp.resolve("run/model").toString(), "--prompt",
        JSON.readTree(subset.get(0)).get("caption").asText(), "--out", tmp.resolve("img").toString(),
        "--images-per-prompt", "1", "--steps", "4", "--width", "32", "--height", "32");
    assertEquals(0, s.code(), s.out() + s.err());
    assertEquals(32, ImageIO.read(tmp.resolve("img/0_0.png").toFile()).getHeight());
  }

  private static double mean(List<Double> l) {
    return l.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
  }
}

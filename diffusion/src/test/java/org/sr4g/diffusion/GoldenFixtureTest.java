package org.sr4g.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;

/** The comparison rule and fixture discovery of the parity harness, on a synthetic fixture. */
class GoldenFixtureTest {
  @TempDir Path dir;

  private GoldenFixture fixture() throws IOException {
    new SafetensorsWriter().putF32("output/y", new float[] {1f, -2f, 3f}, 3).putI64("output/ids", new long[] {4, 5}, 2)
        .write(dir.resolve("toy.io.safetensors"));
    Files.writeString(dir.resolve("toy.json"), """
        {"fixture": "toy", "model": "AutoencoderKL", "io_file": "toy.io.safetensors",
         "tolerance": {"atol": {"output/y": 0.01}},
         "tensors": {"output/y": {"dtype": "F32", "shape": [3]}, "output/ids": {"dtype": "I64", "shape": [2]}}}""");
    Files.writeString(dir.resolve("toy.config.json"), "{\"fixture\": \"not a sidecar\"}");
    return GoldenFixture.load(dir, "toy");
  }

  @Test
  void passesWithinToleranceAndFailsBeyondIt() throws IOException {
    try (GoldenFixture f = fixture()) {
      assertEquals(0.009, f.checkClose("output/y", new float[] {1.009f, -2f, 3f}), 1e-6);
      f.verify();
      f.checkClose("output/y", new float[] {1.02f, -2f, 3f});
      AssertionFailedError e = assertThrows(AssertionFailedError.class, f::verify);
      assertTrue(e.getMessage().contains("output/y") && e.getMessage().contains("FAIL"), e.getMessage());
    }
  }

  @Test
  void nanAndWrongLengthNeverPass() throws IOException {
    try (GoldenFixture f = fixture()) {
      assertThrows(AssertionFailedError.class, () -> f.assertClose("output/y", new float[] {Float.NaN, -2f, 3f}));
      assertThrows(AssertionFailedError.class, () -> f.assertClose("output/y", new float[] {1f, -2f}));
    }
  }

  @Test
  void integerTensorsMustMatchExactly() throws IOException {
    try (GoldenFixture f = fixture()) {
      f.assertExact("output/ids", new long[] {4, 5});
      assertThrows(AssertionFailedError.class, () -> f.assertExact("output/ids", new long[] {4, 6}));
      assertEquals(List.of("output/y", "output/ids"), f.tensorNames());
    }
  }

  @Test
  void kindComesFromTheModelFieldAndDiscoverySkipsConfigs() throws IOException {
    try (GoldenFixture f = fixture()) {
      assertEquals("vae", f.kind());
    }
    assertEquals(List.of("toy"), GoldenFixture.discover(dir));
    ObjectMapper json = new ObjectMapper();
    assertEquals("unet", GoldenFixture.kindOf(json.readTree("{\"fixture\":\"u\",\"model\":\"UNet2DConditionModel\"}")));
    assertEquals("clip_text", GoldenFixture.kindOf(json.readTree("{\"fixture\":\"c\",\"model\":\"CLIP text transformer\"}")));
    assertEquals("schedulers", GoldenFixture.kindOf(json.readTree("{\"fixture\":\"schedulers\"}")));
    assertEquals("custom", GoldenFixture.kindOf(json.readTree("{\"fixture\":\"x\",\"kind\":\"custom\"}")));
  }

  @Test
  void registryFindsTheCheckersInTheGoldenPackage() {
    var checkers = GoldenCheckers.discover();
    assertTrue(checkers.containsKey("tokenizer"), checkers.keySet().toString());
    assertTrue(checkers.containsKey("schedulers"), checkers.keySet().toString());
    assertFalse(checkers.containsKey("toy"));
  }
}

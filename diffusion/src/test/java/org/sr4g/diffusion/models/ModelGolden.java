package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.testing.SharedData;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Tensor;

/**
 * One golden model fixture ({@code ../shared/golden/<name>.*}): weights, inputs/expected tensors and the per-tensor
 * tolerances of its sidecar. Comparisons record their max error so the tests can print them.
 */
final class ModelGolden implements AutoCloseable {
  final String name;
  final JsonNode sidecar;
  final SafetensorsFile io;
  final SafetensorsFile weights;
  final Path configFile;
  final List<String> report = new ArrayList<>();

  private ModelGolden(String name) {
    this.name = name;
    Path dir = SharedData.require("golden/" + name + ".json").getParent();
    try {
      sidecar = new ObjectMapper().readTree(dir.resolve(name + ".json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    configFile = dir.resolve(sidecar.get("config_file").asText());
    io = SafetensorsFile.open(dir.resolve(sidecar.get("io_file").asText()));
    weights = SafetensorsFile.open(dir.resolve(sidecar.get("weights_file").asText()));
  }

  static ModelGolden open(String name) {
    requireTorch();
    return new ModelGolden(name);
  }

  /** Skips visibly without the engine, except under CI=true (as the native module's tests do). */
  static void requireTorch() {
    NativeAssume.torch();
  }

  double atol(String key) {
    JsonNode a = sidecar.get("tolerance").get("atol").get(key);
    if (a == null) throw new IllegalArgumentException(name + ": no tolerance for " + key);
    return a.asDouble();
  }

  Tensor input(String key) {
    return io.toTensor(key);
  }

  /** Asserts shape equality and max|actual − expected| ≤ the sidecar's atol; returns the max error. */
  double check(String key, Tensor actual) {
    float[] expected = io.readFloats(key);
    assertArrayEquals(io.info(key).shape(), actual.shape(), key + " shape");
    float[] got = actual.contiguous().toFloatArray();
    double max = 0;
    for (int i = 0; i < got.length; i++) max = Math.max(max, Math.abs((double) got[i] - expected[i]));
    if (Double.isNaN(sum(got))) max = Double.NaN;
    double atol = atol(key);
    String line = String.format("%s %s: max|err| %.3e, atol %.3e", name, key, max, atol);
    report.add(line);
    System.out.println("[golden] " + line);
    Assertions.assertTrue(max <= atol, line);
    return max;
  }

  private static double sum(float[] a) {
    double s = 0;
    for (float f : a) s += f;
    return s;
  }

  @Override
  public void close() {
    io.close();
    weights.close();
  }
}

package org.sr4g.diffusion;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.testing.SharedData;

/**
 * One golden fixture of {@code ../shared/golden}: its sidecar ({@code <name>.json}) and its I/O tensors, with the
 * comparison rule of the golden README: a float tensor passes if {@code max|actual - expected| <= atol} (atol per tensor
 * from the sidecar), an integer tensor if it is equal.
 *
 * <p>{@link #assertClose} fails at once; {@link #checkClose} records and goes on, {@link #verify} then fails with every
 * mismatch. Every comparison adds a line to {@link #report()} (tensor, max error, atol), printed by the parity harness.
 */
public final class GoldenFixture implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final String name;
  private final JsonNode sidecar;
  private final SafetensorsFile io;
  private final List<String> report = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private final Set<String> compared = new LinkedHashSet<>();

  private GoldenFixture(Path dir, String name, JsonNode sidecar, SafetensorsFile io) {
    this.dir = dir;
    this.name = name;
    this.sidecar = sidecar;
    this.io = io;
  }

  /** {@code $SR4G_GOLDEN_DIR} (environment or system property) or {@code ../shared/golden} (skips when absent). */
  public static Path goldenDir() {
    String p = System.getProperty("sr4g.golden.dir", System.getenv("SR4G_GOLDEN_DIR"));
    if (p != null && !p.isBlank()) return Path.of(p).toAbsolutePath().normalize();
    return SharedData.require("golden");
  }

  /** Loads {@code <name>.json} from the golden directory and opens its I/O file ({@code io_file}, or {@code file}). */
  public static GoldenFixture load(String name) {
    return load(goldenDir(), name);
  }

  public static GoldenFixture load(Path dir, String name) {
    JsonNode side;
    try {
      side = JSON.readTree(dir.resolve(name + ".json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read sidecar " + dir.resolve(name + ".json"), e);
    }
    JsonNode ioName = side.has("io_file") ? side.get("io_file") : side.get("file");
    SafetensorsFile io = ioName != null && ioName.isTextual() ? SafetensorsFile.open(dir.resolve(ioName.asText())) : null;
    return new GoldenFixture(dir, name, side, io);
  }

  /**
   * A fixture laid out as a folder ({@code owlvit_a/}): its sidecar is {@code fixture.json}, its I/O file the sidecar's
   * {@code files.io}; the name is the folder's.
   */
  public static GoldenFixture folder(Path dir) {
    JsonNode side;
    try {
      side = JSON.readTree(dir.resolve("fixture.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read sidecar " + dir.resolve("fixture.json"), e);
    }
    JsonNode ioName = side.path("files").get("io");
    SafetensorsFile io = ioName != null && ioName.isTextual() ? SafetensorsFile.open(dir.resolve(ioName.asText())) : null;
    return new GoldenFixture(dir, dir.getFileName().toString(), side, io);
  }

  /** A fixture with no sidecar (the tokenizer cases file): only {@link #dir()} and {@link #name()} are meaningful. */
  public static GoldenFixture withoutSidecar(Path dir, String name, String kind) {
    ObjectNode side = JsonNodeFactory.instance.objectNode().put("fixture", name).put("kind", kind);
    return new GoldenFixture(dir, name, side, null);
  }

  /**
   * The checker kind: an explicit {@code kind} field, else derived from {@code model} ({@code UNet...} → unet,
   * {@code AutoencoderKL} → vae, {@code CLIP text...} → clip_text), else the fixture name.
   */
  public String kind() {
    return kindOf(sidecar);
  }

  static String kindOf(JsonNode sidecar) {
    if (sidecar.hasNonNull("kind")) return sidecar.get("kind").asText();
    String model = sidecar.path("model").asText("");
    if (model.startsWith("UNet")) return "unet";
    if (model.startsWith("AutoencoderKL")) return "vae";
    if (model.startsWith("CLIP text")) return "clip_text";
    return sidecar.path("fixture").asText("");
  }

  public Path dir() {
    return dir;
  }

  public String name() {
    return name;
  }

  public JsonNode sidecar() {
    return sidecar;
  }

  /** The fixture's {@code config} object (for model and scheduler construction). */
  public JsonNode config() {
    return sidecar.get("config");
  }

  public SafetensorsFile io() {
    if (io == null) throw new IllegalStateException(name + " has no I/O safetensors file");
    return io;
  }

  /** Tensor names the sidecar lists, in its order. */
  public List<String> tensorNames() {
    List<String> out = new ArrayList<>();
    sidecar.path("tensors").fieldNames().forEachRemaining(out::add);
    return out;
  }

  public float[] floats(String tensor) {
    return io().readFloats(tensor);
  }

  public long[] longs(String tensor) {
    return io().readLongs(tensor);
  }

  public long[] shape(String tensor) {
    return io().info(tensor).shape();
  }

  /** The tolerance of {@code tensor} ({@code tolerance.atol.<tensor>} in the sidecar). */
  public double atol(String tensor) {
    JsonNode a = sidecar.path("tolerance").path("atol").get(tensor);
    if (a == null || !a.isNumber()) throw new AssertionError(name + ": sidecar has no atol for " + tensor);
    return a.doubleValue();
  }

  /** Largest {@code |actual - expected|}; NaN if any value is NaN or lengths differ. */
  public static double maxAbsDiff(float[] actual, float[] expected) {
    if (actual.length != expected.length) return Double.NaN;
    double max = 0;
    for (int i = 0; i < actual.length; i++) {
      double d = Math.abs((double) actual[i] - expected[i]);
      if (Double.isNaN(d)) return Double.NaN;
      max = Math.max(max, d);
    }
    return max;
  }

  /** Compares with the sidecar tolerance; records the result and returns the max error. Does not throw. */
  public double checkClose(String tensor, float[] actual) {
    float[] expected = floats(tensor);
    double atol = atol(tensor);
    double err = maxAbsDiff(actual, expected);
    compared.add(tensor);
    boolean ok = err <= atol; // false for NaN
    String line = String.format("%s %-40s max|err| %.3e  atol %.1e  %s%s", name, tensor, err, atol, ok ? "ok" : "FAIL",
        actual.length != expected.length ? " (length " + actual.length + ", expected " + expected.length + ")" : "");
    report.add(line);
    if (!ok) failures.add(line);
    return err;
  }

  /** Integer tensors must match exactly. Records the result; does not throw. */
  public boolean checkExact(String tensor, long[] actual) {
    long[] expected = longs(tensor);
    compared.add(tensor);
    boolean ok = java.util.Arrays.equals(actual, expected);
    String line = String.format("%s %-40s exact  %s", name, tensor, ok ? "ok"
        : "FAIL: " + java.util.Arrays.toString(actual) + " vs expected " + java.util.Arrays.toString(expected));
    report.add(line);
    if (!ok) failures.add(line);
    return ok;
  }

  /** Records a failure that is not a tensor comparison (e.g. a case of a non-tensor fixture). */
  public void recordFailure(String what) {
    failures.add(name + " " + what);
    report.add(name + " " + what);
  }

  public void recordOk(String what) {
    report.add(name + " " + what);
  }

  /** {@link #checkClose}, then fails at once on a mismatch. */
  public void assertClose(String tensor, float[] actual) {
    double before = failures.size();
    checkClose(tensor, actual);
    if (failures.size() > before) fail(failures.get(failures.size() - 1));
  }

  public void assertExact(String tensor, long[] actual) {
    if (!checkExact(tensor, actual)) fail(failures.get(failures.size() - 1));
  }

  /** Fails listing every recorded mismatch. */
  public void verify() {
    if (!failures.isEmpty()) fail(failures.size() + " mismatch(es) in " + name + ":\n" + String.join("\n", failures));
  }

  public List<String> report() {
    return List.copyOf(report);
  }

  /** Tensors compared so far. */
  public Set<String> compared() {
    return Set.copyOf(compared);
  }

  @Override
  public void close() {
    if (io != null) io.close();
  }

  /** Sidecar fixtures in {@code dir}: every {@code *.json} with a {@code fixture} field (not {@code *.config.json}). */
  public static List<String> discover(Path dir) {
    List<String> names = new ArrayList<>();
    try (var files = Files.list(dir)) {
      for (Path p : files.sorted().toList()) {
        String f = p.getFileName().toString();
        if (!f.endsWith(".json") || f.endsWith(".config.json")) continue;
        JsonNode n = JSON.readTree(p.toFile());
        if (n.isObject() && n.hasNonNull("fixture")) names.add(f.substring(0, f.length() - ".json".length()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list golden fixtures in " + dir, e);
    }
    return names;
  }

}

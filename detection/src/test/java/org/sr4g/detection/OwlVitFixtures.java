package org.sr4g.detection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.sr4g.diffusion.GoldenFixture;

/**
 * The OWL-ViT golden fixtures ({@code owlvit_*} folders of the golden directory, each with a {@code fixture.json}) and
 * a model folder assembled from one: the fixture ships no tokenizer files, so the golden directory's CLIP
 * {@code vocab.json} and {@code merges.txt} are added, as a hub folder has them.
 */
public final class OwlVitFixtures {
  private OwlVitFixtures() {}

  /** Every {@code owlvit_*} fixture folder under the golden directory, sorted (skips/fails via SharedData when absent). */
  public static List<Path> all() {
    Path golden = GoldenFixture.goldenDir();
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(golden)) {
      for (Path p : s.sorted().toList())
        if (p.getFileName().toString().startsWith("owlvit_") && Files.isRegularFile(p.resolve("fixture.json"))) out.add(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** The first fixture ({@code owlvit_a}); skips the test without one, fails it under {@code CI=true}. */
  public static Path first() {
    List<Path> all = all();
    if (all.isEmpty()) {
      String why = "no owlvit_* fixture in " + GoldenFixture.goldenDir();
      if ("true".equalsIgnoreCase(System.getenv("CI"))) throw new AssertionError(why + " — required when CI=true");
      throw new org.opentest4j.TestAbortedException(why);
    }
    return all.get(0);
  }

  /** A hub-style OWL-ViT folder in {@code dir}: the fixture's config, preprocessor and weights, plus the tokenizer. */
  public static Path modelFolder(Path fixture, Path dir) {
    try {
      Files.createDirectories(dir);
      for (String f : List.of("config.json", "preprocessor_config.json", "model.safetensors"))
        Files.copy(fixture.resolve(f), dir.resolve(f));
      Path golden = fixture.getParent();
      for (String f : List.of("vocab.json", "merges.txt")) {
        Path src = Files.isRegularFile(fixture.resolve(f)) ? fixture.resolve(f) : golden.resolve(f);
        Files.copy(src, dir.resolve(f));
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

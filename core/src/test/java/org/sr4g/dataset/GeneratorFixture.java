package org.sr4g.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.sr4g.coco.CocoSource;

/** Runs the generator into a directory and reads its outputs back. */
final class GeneratorFixture {
  static final ObjectMapper JSON = new ObjectMapper();

  private GeneratorFixture() {}

  static GenerateResult generate(GenerateOptions opt, List<Path> train, List<Path> eval, Path out) {
    List<CocoSource> t = new ArrayList<>(), e = new ArrayList<>();
    for (Path p : train) t.add(CocoSource.of(p));
    for (Path p : eval) e.add(CocoSource.of(p));
    try (OutputDir dir = OutputDir.prepare(out, true)) {
      GenerateResult r = new Sr4gGenerator(opt).run(t, e, "test", dir);
      dir.commit();
      return r;
    }
  }

  static JsonNode json(Path f) throws IOException {
    return JSON.readTree(f.toFile());
  }

  static List<JsonNode> jsonl(Path f) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(f)) out.add(JSON.readTree(line));
    return out;
  }
}

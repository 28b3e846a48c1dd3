package org.sr4g.evaluation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** Small helpers to write hand-made prompt and detection files. */
final class TestFiles {
  private TestFiles() {}

  static Path write(Path dir, String name, String content) {
    try {
      return Files.writeString(dir.resolve(name), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** VISOR-style prompt object. */
  static String prompt(int id, int n, String a, String b, String rel) {
    String text = b == null ? "a " + a : "a " + a + " " + rel + " a " + b;
    return "{\"unique_id\": " + id + ", \"num_objects\": " + n + ", \"obj_1_attributes\": [\"" + a
        + "\"], \"obj_2_attributes\": " + (b == null ? "[]" : "[\"" + b + "\"]") + ", \"rel_type\": \"" + rel
        + "\", \"text\": \"" + text + "\"}";
  }

  static PromptSet prompts(Path dir, String... objects) {
    return PromptReader.read(write(dir, "prompts.json", "[" + String.join(",\n", objects) + "]"), Set.of());
  }
}

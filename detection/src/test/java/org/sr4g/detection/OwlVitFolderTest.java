package org.sr4g.detection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;

/** The hub folder layout: tokenizer defaults and files, the weights fallback, and every problem at once. */
class OwlVitFolderTest {

  @Test
  void tokenizerPadsWithZeroAndHonoursTheTokenizerFiles(@TempDir Path tmp) throws Exception {
    Path dir = OwlVitFixtures.modelFolder(OwlVitFixtures.first(), tmp.resolve("m"));
    OwlVitFolder f = OwlVitFolder.open(dir);
    assertEquals(List.of(), f.problems());
    QueryTokenizer.Encoded e = f.tokenizer().encode("a photo of a cat");
    assertArrayEquals(new long[] {49406, 320, 1125, 539, 320, 2368, 49407, 0, 0, 0, 0, 0, 0, 0, 0, 0}, e.ids());
    assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, e.mask());
    // What the hub ships beside vocab.json: the pad token "!" (id 0) and model_max_length 16.
    Files.writeString(dir.resolve("special_tokens_map.json"), "{\"pad_token\": \"!\"}");
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 12}");
    QueryTokenizer t = OwlVitFolder.open(dir).tokenizer();
    assertEquals(12, t.maxLength());
    assertEquals(0, t.encode("a dog").ids()[11]);
    UserInputException tooLong = assertThrows(UserInputException.class,
        () -> t.encode("a photo of a very very very very very long name"));
    assertTrue(tooLong.getMessage().contains("is 13 tokens; OWL-ViT takes at most 12"), tooLong.getMessage());
  }

  @Test
  void pytorchBinIsTheFallbackAndEveryProblemIsListed(@TempDir Path tmp) throws Exception {
    Path fixture = OwlVitFixtures.first();
    Path dir = OwlVitFixtures.modelFolder(fixture, tmp.resolve("m"));
    Files.delete(dir.resolve("model.safetensors"));
    Files.copy(fixture.resolve("pytorch_model.bin"), dir.resolve("pytorch_model.bin"));
    OwlVitFolder f = OwlVitFolder.open(dir);
    assertEquals(dir.resolve("pytorch_model.bin"), f.weights());
    assertEquals(List.of(), f.problems());

    Files.delete(dir.resolve("pytorch_model.bin"));
    Files.delete(dir.resolve("merges.txt"));
    Files.writeString(dir.resolve("preprocessor_config.json"), "{\"size\": 224, \"resample\": 2}");
    List<String> problems = OwlVitFolder.open(dir).problems();
    String all = String.join("\n", problems);
    assertEquals(3, problems.size(), all);
    assertTrue(all.contains("resample 2 is not supported (3 = bicubic)"), all);
    assertTrue(all.contains("merges.txt: missing (the CLIP tokenizer's files)"), all);
    assertTrue(all.contains("model.safetensors: missing (nor pytorch_model.bin)"), all);
    Files.writeString(dir.resolve("preprocessor_config.json"), "{\"size\": 224}");
    assertTrue(String.join("\n", OwlVitFolder.open(dir).problems()).contains("size 224×224 differs from the model's image_size 96"));
  }
}

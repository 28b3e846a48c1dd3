package org.sr4g.diffusion.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.sr4g.testing.SharedData;

/** Every case of {@code golden/tokenizer_cases.jsonl}, with both vocabulary formats. */
class ClipTokenizerGoldenTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static List<JsonNode> cases(Path golden) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(golden.resolve("tokenizer_cases.jsonl")))
      if (!line.isBlank()) out.add(JSON.readTree(line));
    return out;
  }

  @TestFactory
  Stream<DynamicTest> everyCaseMatchesTheReference() throws IOException {
    Path golden = SharedData.require("golden");
    List<JsonNode> cases = cases(golden);
    assertEquals(41, cases.size());
    ClipTokenizer hf = ClipTokenizer.fromVocabAndMerges(golden.resolve("vocab.json"), golden.resolve("merges.txt"));
    ClipTokenizer openAi = ClipTokenizer.fromOpenAiBpe(golden.resolve("bpe_simple_vocab_16e6.txt.gz"));
    ClipTokenizer sd2 = hf.withPadId(0);
    List<DynamicTest> tests = new ArrayList<>();
    for (int i = 0; i < cases.size(); i++) {
      JsonNode c = cases.get(i);
      String text = c.get("text").asText();
      String label = "case " + i + ": " + (text.length() > 40 ? text.substring(0, 40) + "…" : text);
      tests.add(DynamicTest.dynamicTest(label, () -> {
        assertEquals(c.get("clean").asText(), ClipTokenizer.clean(text), "clean");
        List<String> tokens = new ArrayList<>();
        c.get("tokens").forEach(t -> tokens.add(t.asText()));
        assertEquals(tokens, hf.tokens(text), "tokens");
        int[] bpe = JSON.convertValue(c.get("bpe"), int[].class);
        assertArrayEquals(bpe, hf.encode(text), "bpe (vocab.json + merges.txt)");
        assertArrayEquals(bpe, openAi.encode(text), "bpe (bpe_simple_vocab_16e6.txt.gz)");
        assertEquals(c.get("truncated").asBoolean(), bpe.length > 75, "truncated flag");
        assertArrayEquals(JSON.convertValue(c.get("ids"), long[].class), hf.tokenize(text), "ids (SD 1.x, pad 49407)");
        assertArrayEquals(JSON.convertValue(c.get("ids_pad0"), long[].class), sd2.tokenize(text), "ids_pad0 (SD 2.x)");
      }));
    }
    return tests.stream();
  }

  @Test
  void bothVocabularyFormatsAgree() {
    Path golden = SharedData.require("golden");
    ClipTokenizer hf = ClipTokenizer.fromVocabAndMerges(golden.resolve("vocab.json"), golden.resolve("merges.txt"));
    ClipTokenizer openAi = ClipTokenizer.fromOpenAiBpe(golden.resolve("bpe_simple_vocab_16e6.txt.gz"));
    assertEquals(49408, hf.vocabSize());
    assertEquals(49408, openAi.vocabSize());
    for (int id = 0; id < 49408; id++) assertEquals(hf.token(id), openAi.token(id), "id " + id);
    assertEquals(49406, hf.startId());
    assertEquals(49407, hf.endId());
    assertEquals(49407, hf.padId());
  }
}

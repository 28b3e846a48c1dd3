package org.sr4g.diffusion.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.sr4g.diffusion.GoldenChecker;
import org.sr4g.diffusion.GoldenFixture;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;

/** {@code tokenizer_cases.jsonl}: clean text, BPE ids and both paddings of every case, with both vocabulary formats. */
public final class TokenizerGoldenChecker implements GoldenChecker {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String kind() {
    return "tokenizer";
  }

  @Override
  public void check(GoldenFixture f) throws Exception {
    Path dir = f.dir();
    ClipTokenizer hf = ClipTokenizer.fromVocabAndMerges(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
    ClipTokenizer openAi = ClipTokenizer.fromOpenAiBpe(dir.resolve("bpe_simple_vocab_16e6.txt.gz"));
    ClipTokenizer sd2 = hf.withPadId(0);
    List<String> lines = Files.readAllLines(dir.resolve("tokenizer_cases.jsonl"));
    int n = 0;
    int ok = 0;
    for (String line : lines) {
      if (line.isBlank()) continue;
      JsonNode c = JSON.readTree(line);
      String text = c.get("text").asText();
      String where = "case " + n++ + " " + JSON.writeValueAsString(text.length() > 50 ? text.substring(0, 50) + "…" : text);
      int[] bpe = JSON.convertValue(c.get("bpe"), int[].class);
      long[] ids = JSON.convertValue(c.get("ids"), long[].class);
      long[] pad0 = JSON.convertValue(c.get("ids_pad0"), long[].class);
      String problem = null;
      if (!c.get("clean").asText().equals(ClipTokenizer.clean(text))) problem = "clean text differs: " + ClipTokenizer.clean(text);
      else if (!Arrays.equals(bpe, hf.encode(text))) problem = "bpe differs (vocab.json): " + Arrays.toString(hf.encode(text));
      else if (!Arrays.equals(bpe, openAi.encode(text))) problem = "bpe differs (OpenAI gz): " + Arrays.toString(openAi.encode(text));
      else if (!Arrays.equals(ids, hf.tokenize(text))) problem = "ids differ: " + Arrays.toString(hf.tokenize(text));
      else if (!Arrays.equals(pad0, sd2.tokenize(text))) problem = "ids_pad0 differ: " + Arrays.toString(sd2.tokenize(text));
      if (problem == null) ok++;
      else f.recordFailure(where + ": " + problem);
    }
    f.recordOk(ok + "/" + n + " cases match (clean, bpe with both vocabulary formats, ids, ids_pad0)");
    if (n == 0) f.recordFailure("no cases in tokenizer_cases.jsonl");
  }
}

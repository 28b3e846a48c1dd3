package org.sr4g.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;

/** A tokenizer folder (vocab.json, merges.txt, special_tokens_map.json) and a prompt through it. */
class TokenizerFuzzTest {
  @FuzzTest
  void fuzz(FuzzedDataProvider in) {
    Verdict.userErrorsOnly(() -> {
      Scratch.file("tok/vocab.json", in.consumeString(3000).getBytes(StandardCharsets.UTF_8));
      Scratch.file("tok/merges.txt", in.consumeString(1000).getBytes(StandardCharsets.UTF_8));
      Scratch.file("tok/special_tokens_map.json", in.consumeString(200).getBytes(StandardCharsets.UTF_8));
      String text = in.consumeRemainingAsString();
      ClipTokenizer t = ClipTokenizer.fromFolder(Scratch.dir("tok"));
      long[] ids = t.tokenize(text);
      for (long id : ids) if (id < 0 || id >= t.vocabSize()) throw new AssertionError("token id " + id + " outside the vocabulary");
    });
  }
}

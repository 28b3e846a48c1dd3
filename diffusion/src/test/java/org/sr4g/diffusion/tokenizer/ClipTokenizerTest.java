package org.sr4g.diffusion.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;

/** The tokenizer on a tiny hand-made vocabulary, and the clean-up rules the golden cases do not reach. */
class ClipTokenizerTest {
  @TempDir Path dir;

  private ClipTokenizer tiny(String... merges) throws IOException {
    // Vocabulary: single letters a..c with and without </w>, the merge results, specials.
    StringBuilder vocab = new StringBuilder("{");
    int id = 0;
    for (String t : List.of("a", "b", "c", "a</w>", "b</w>", "c</w>")) vocab.append('"').append(t).append("\":").append(id++).append(',');
    for (String m : merges) vocab.append('"').append(m.replace(" ", "")).append("\":").append(id++).append(',');
    vocab.append("\"<|startoftext|>\":").append(id++).append(",\"<|endoftext|>\":").append(id).append('}');
    Files.writeString(dir.resolve("vocab.json"), vocab);
    Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", merges) + "\n");
    return ClipTokenizer.fromFolder(dir);
  }

  @Test
  void aVocabularyWithoutEveryByteTokenIsAUserErrorNotACrash() throws IOException {
    // Found by TokenizerFuzzTest: BPE of "1" gives "1</w>", which this vocabulary lacks.
    Path v = Files.writeString(dir.resolve("vocab.json"),
        "{\"a\": 0, \"a</w>\": 1, \"<|startoftext|>\": 2, \"<|endoftext|>\": 3}");
    Path m = Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n");
    ClipTokenizer t = ClipTokenizer.fromVocabAndMerges(v, m);
    assertEquals(1, t.encode("a")[0]);
    UserInputException e = assertThrows(UserInputException.class, () -> t.tokenize("a 1"));
    assertTrue(e.getMessage().contains("lacks the token '1</w>'"), e.getMessage());
  }

  @Test
  void mergesLowestRankFirst() throws IOException {
    // [a, b, c</w>]: "b c</w>" (rank 0) wins over "a b" (rank 1); afterwards "a bc</w>" is not a merge.
    assertEquals(List.of("a", "bc</w>"), tiny("b c</w>", "a b").tokens("abc"));
    // Reversed ranks: "a b" first, then "ab c</w>" is not a merge.
    assertEquals(List.of("ab", "c</w>"), tiny("a b", "b c</w>").tokens("abc"));
  }

  @Test
  void mergesEveryOccurrenceAndRepeats() throws IOException {
    ClipTokenizer t = tiny("a b", "ab ab", "abab c</w>");
    assertEquals(List.of("ababc</w>"), t.tokens("ababc"));
    assertEquals(List.of("ab", "ab", "c</w>"), tiny("a b").tokens("ababc"));
    assertEquals(List.of("c</w>", "ab", "a</w>"), tiny("a b").tokens("c aba"));
  }

  @Test
  void tokenizeTruncatesTo75AndPads() throws IOException {
    ClipTokenizer t = tiny("a b");
    long[] ids = t.tokenize("c ".repeat(100));
    assertEquals(77, ids.length);
    assertEquals(t.startId(), ids[0]);
    assertEquals(5, ids[1]);
    assertEquals(5, ids[75]);
    assertEquals(t.endId(), ids[76]);
    long[] shortIds = t.withPadId(0).tokenize("a");
    assertArrayEquals(new long[] {t.startId(), 3, t.endId(), 0}, java.util.Arrays.copyOf(shortIds, 4));
    assertEquals(0, shortIds[76]);
  }

  @Test
  void specialTokensInTheTextMapToTheirIds() throws IOException {
    ClipTokenizer t = tiny();
    assertArrayEquals(new int[] {3, t.endId(), 5}, t.encode("a<|endoftext|>c"));
  }

  @Test
  void padTokenComesFromSpecialTokensMap() throws IOException {
    tiny();
    Files.writeString(dir.resolve("special_tokens_map.json"), "{\"pad_token\": {\"content\": \"a</w>\"}}");
    assertEquals(3, ClipTokenizer.fromFolder(dir).padId());
  }

  @Test
  void malformedMergeLineNamesFileAndLine() throws IOException {
    tiny("a b");
    Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\nabc\n");
    UserInputException e = assertThrows(UserInputException.class, () -> ClipTokenizer.fromFolder(dir));
    assertTrue(e.getMessage().contains("merges.txt:3"), e.getMessage());
  }

  @Test
  void sparseOrDuplicateVocabularyIdsAreRejected() throws IOException {
    tiny();
    Files.writeString(dir.resolve("vocab.json"), "{\"a\":0,\"b\":1000000000,\"<|startoftext|>\":1,\"<|endoftext|>\":2}");
    UserInputException e = assertThrows(UserInputException.class, () -> ClipTokenizer.fromFolder(dir));
    assertTrue(e.getMessage().contains("vocab.json") && e.getMessage().contains("'b'"), e.getMessage());
    Files.writeString(dir.resolve("vocab.json"), "{\"a\":0,\"b\":0,\"<|startoftext|>\":1,\"<|endoftext|>\":2}");
    assertThrows(UserInputException.class, () -> ClipTokenizer.fromFolder(dir));
  }

  @Test
  void cleanUpFollowsPythonRules() {
    assertEquals("a & b", TextCleaner.clean("a &amp;amp; b"), "unescaped twice");
    assertEquals("€ x", TextCleaner.clean("&#128; x"), "C1 reference read as windows-1252, as Python does");
    assertEquals("é", TextCleaner.clean("&eacute"), "legacy entity without semicolon");
    assertEquals("&bogus;", TextCleaner.clean("&bogus;"));
    assertEquals("σσ", TextCleaner.clean("ΣΣ"), "Python lower-cases a final sigma to σ");
    assertEquals("a b", TextCleaner.clean("\u00a0a\u3000\u2003b\u2029"), "Python whitespace, ideographic space");
    assertEquals("ab", TextCleaner.clean("a\ufeffb"), "BOM dropped");
    assertEquals("ij dž", TextCleaner.clean("Ĳ ǅ"), "Latin ligatures expanded");
    assertEquals("カ 12", TextCleaner.clean("ｶ １２"), "half-width katakana and full-width digits to NFKC");
    assertEquals("ſt 'n", TextCleaner.clean("ﬅ ŉ"), "ftfy's ligature table, not NFKC (then ʼ is uncurled)");
  }

  @Test
  void cleanUpFollowsFtfyFixText() {
    assertEquals("&", TextCleaner.clean("&amp;amp;amp;amp;"), "ftfy repeats unescape_html until nothing changes");
    assertEquals("ñandú", TextCleaner.clean("&NTILDE;and&uacute;"), "ftfy decodes upper-cased entity names");
    assertEquals("<b>&</b>", TextCleaner.clean("<b>&amp;amp;</b>"), "a line with '<': ftfy leaves entities, CLIP unescapes twice");
    assertEquals("a…b", TextCleaner.clean("a\u0085b"), "C1 control read as windows-1252 before line breaks are fixed");
    assertEquals("red text", TextCleaner.clean("\u001b[31mred\u001b[0m text"), "terminal escapes removed");
    assertEquals("a\ufffdb", TextCleaner.clean("a\ud800b"), "lone surrogate replaced");
    assertEquals("xy", TextCleaner.clean("x\u206ay"), "deprecated format character removed");
    assertEquals("x\u202ey", TextCleaner.clean("x\u202ey"), "bidi override kept, as ftfy does");
  }
}

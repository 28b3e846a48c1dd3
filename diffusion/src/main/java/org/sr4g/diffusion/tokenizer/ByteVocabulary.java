package org.sr4g.diffusion.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A complete CLIP tokenizer that needs no download: the 256 byte characters of GPT-2's byte-level alphabet (ids
 * 0–255), the same with the end-of-word mark {@code </w>} (256–511), {@code <|startoftext|>} 512 and
 * {@code <|endoftext|>} 513, and no merges, so every character of a caption is its own token. It is what
 * {@code sr4g init-model} writes: any text tokenizes (ids below 514, so a text encoder with {@code vocab_size} ≥ 514
 * fits it), without the 49 408-entry CLIP vocabulary, which real checkpoints bring with them. Captions are cleaned
 * and split exactly as with the real vocabulary; only the merges are missing.
 */
public final class ByteVocabulary {
  private ByteVocabulary() {}

  /** Tokens in the vocabulary (the text encoder's minimum {@code vocab_size}). */
  public static final int SIZE = 514;

  /** Writes {@code vocab.json}, {@code merges.txt} (header only) and {@code special_tokens_map.json} into {@code dir}. */
  public static void write(Path dir, String padToken) throws IOException {
    Files.createDirectories(dir);
    ObjectMapper json = new ObjectMapper();
    ObjectNode vocab = json.createObjectNode();
    for (char c : ByteLevel.CHARS) vocab.put(String.valueOf(c), vocab.size());
    for (char c : ByteLevel.CHARS) vocab.put(c + "</w>", vocab.size());
    vocab.put(ClipTokenizer.START_TOKEN, vocab.size());
    vocab.put(ClipTokenizer.END_TOKEN, vocab.size());
    json.writeValue(dir.resolve("vocab.json").toFile(), vocab);
    Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n");
    ObjectNode special = json.createObjectNode().put("bos_token", ClipTokenizer.START_TOKEN)
        .put("eos_token", ClipTokenizer.END_TOKEN).put("unk_token", ClipTokenizer.END_TOKEN).put("pad_token", padToken);
    json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("special_tokens_map.json").toFile(), special);
  }
}

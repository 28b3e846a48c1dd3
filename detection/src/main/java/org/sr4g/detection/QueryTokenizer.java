package org.sr4g.detection;

import java.util.Arrays;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;

/**
 * Text queries as OWL-ViT's processor tokenizes them ({@code CLIPTokenizer(padding="max_length")} with
 * {@code model_max_length} 16): start token, CLIP BPE, end token, then the pad id (OWL-ViT pads with {@code "!"}, id
 * 0); the attention mask is 1 on the real tokens. A query too long for the text tower is an error (the reference
 * would fail in the model), and a padded query — all ids 0 — fills batches whose images have fewer queries.
 */
public final class QueryTokenizer {
  private final ClipTokenizer tokenizer;
  private final int maxLength;

  public QueryTokenizer(ClipTokenizer tokenizer, int maxLength) {
    if (maxLength < 2) throw new IllegalArgumentException("max length " + maxLength);
    this.tokenizer = tokenizer;
    this.maxLength = maxLength;
  }

  /** ids and attention mask, {@code maxLength} each. */
  public record Encoded(long[] ids, long[] mask) {}

  public Encoded encode(String text) {
    int[] bpe = tokenizer.encode(text);
    if (bpe.length + 2 > maxLength)
      throw new UserInputException("query \"" + text + "\" is " + (bpe.length + 2) + " tokens; OWL-ViT takes at most "
          + maxLength + " (start and end tokens included)");
    long[] ids = new long[maxLength], mask = new long[maxLength];
    Arrays.fill(ids, tokenizer.padId());
    ids[0] = tokenizer.startId();
    for (int i = 0; i < bpe.length; i++) ids[1 + i] = bpe[i];
    ids[1 + bpe.length] = tokenizer.endId();
    Arrays.fill(mask, 0, bpe.length + 2, 1);
    return new Encoded(ids, mask);
  }

  /** A padded query: every id 0, mask 0; the model gives it logit −1e6 everywhere. */
  public Encoded padded() {
    return new Encoded(new long[maxLength], new long[maxLength]);
  }

  public int maxLength() {
    return maxLength;
  }
}

package org.sr4g.diffusion.tokenizer;

/**
 * GPT-2's {@code bytes_to_unicode}: a reversible map from the 256 byte values to printable characters, so byte-level
 * BPE can work on strings. Printable Latin-1 bytes map to themselves; the others to U+0100 upwards, in byte order.
 */
final class ByteLevel {
  private ByteLevel() {}

  /** {@code CHARS[b]} is the character for byte {@code b}. */
  static final char[] CHARS = new char[256];
  /** The 256 characters in the order the vocabulary lists them (the printable bytes first, then the rest). */
  static final char[] VOCAB_ORDER = new char[256];

  static {
    int k = 0;
    boolean[] printable = new boolean[256];
    for (int b = '!'; b <= '~'; b++) printable[b] = true;
    for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
    for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
    for (int b = 0; b < 256; b++) if (printable[b]) {
      CHARS[b] = (char) b;
      VOCAB_ORDER[k++] = (char) b;
    }
    int n = 0;
    for (int b = 0; b < 256; b++) if (!printable[b]) {
      CHARS[b] = (char) (256 + n++);
      VOCAB_ORDER[k++] = CHARS[b];
    }
  }

  static String encode(byte[] utf8) {
    char[] out = new char[utf8.length];
    for (int i = 0; i < utf8.length; i++) out[i] = CHARS[utf8[i] & 0xff];
    return new String(out);
  }
}

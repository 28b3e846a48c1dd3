package org.sr4g.coco;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Finds where the top-level {@code "annotations"} array of a COCO file can be cut into parts that separate parsers can
 * read in parallel: the byte offsets of element-separating commas (depth 2, inside that array) near equally spaced
 * targets.
 *
 * <p>This is not a JSON parser: it tracks only strings (with escapes) and bracket depth, which is enough to tell a
 * separator of the annotations array from any other comma in a well-formed file. The reader treats the result as a
 * guess: if any part fails to parse, it re-reads the whole file serially, so a malformed file gets exactly the error
 * a serial parse gives, and a wrong guess can never change a result.
 */
final class AnnotationSplitter {
  private static final byte[] KEY = "annotations".getBytes(StandardCharsets.US_ASCII);

  private AnnotationSplitter() {}

  /**
   * Returns up to {@code parts - 1} increasing comma offsets; fewer (possibly none) when the array is short or absent.
   * Stops reading as soon as the last cut is found.
   */
  static long[] cuts(InputStream in, long size, int parts) throws IOException {
    long[] cuts = new long[Math.max(0, parts - 1)];
    int found = 0;
    long[] targets = null;
    byte[] buf = new byte[1 << 20];
    byte[] key = new byte[KEY.length + 1];
    int keyLen = 0;
    boolean inString = false, escaped = false, collecting = false, lastKeyIsAnnotations = false, expectArray = false;
    boolean inAnnotations = false;
    int depth = 0;
    long pos = 0;
    for (int n; (n = in.read(buf)) > 0; pos += n) {
      for (int i = 0; i < n; i++) {
        byte c = buf[i];
        if (inString) {
          if (escaped) {
            escaped = false;
          } else if (c == '\\') {
            escaped = true;
          } else if (c == '"') {
            inString = false;
            if (collecting) lastKeyIsAnnotations = keyLen == KEY.length && Arrays.equals(key, 0, keyLen, KEY, 0, KEY.length);
          } else if (collecting && keyLen < key.length) {
            key[keyLen++] = c;
          } else {
            collecting = false;
          }
          continue;
        }
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
            break;
          case '"':
            inString = true;
            collecting = depth == 1;
            keyLen = 0;
            lastKeyIsAnnotations = false;
            expectArray = false;
            break;
          case ':':
            expectArray = depth == 1 && lastKeyIsAnnotations;
            break;
          case '[':
          case '{':
            depth++;
            if (c == '[' && expectArray && depth == 2 && !inAnnotations && targets == null) {
              inAnnotations = true;
              long start = pos + i;
              targets = new long[cuts.length];
              for (int k = 0; k < cuts.length; k++) targets[k] = start + (size - start) * (k + 1) / parts;
            }
            expectArray = false;
            break;
          case ']':
          case '}':
            depth--;
            if (inAnnotations && depth == 1) return Arrays.copyOf(cuts, found);
            expectArray = false;
            break;
          case ',':
            if (inAnnotations && depth == 2 && found < cuts.length && pos + i >= targets[found]) {
              cuts[found++] = pos + i;
              if (found == cuts.length) return cuts;
            }
            expectArray = false;
            break;
          default:
            expectArray = false;
        }
      }
    }
    return Arrays.copyOf(cuts, found);
  }
}

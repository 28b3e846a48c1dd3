package org.sr4g.dataset;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.sr4g.captions.Articles;
import org.sr4g.coco.CocoDataset;
import org.sr4g.relations.Relation;

/**
 * Renders train.jsonl rows straight to bytes. Every constant fragment (caption words, relation and category fields)
 * is encoded once, and every piece an image's rows share is rendered once per image ({@link ImagePieces}): the row
 * head up to the subject's words, and each box's JSON object. A row is then four array copies, which is what makes
 * writing millions of rows a second possible. Field order is fixed (docs/formats.md) and identical to what Jackson
 * would write.
 */
final class RowRenderer {
  private final CocoDataset d;
  private final byte[][] subjectWords; // "a person"
  private final byte[][] categoryHead; // {"category":"person","category_id":1,"annotation_id":
  /**
   * By relation and object category, the middle of every row in one piece: the relation's phrase (" to the left of "),
   * the object's words ("a dog") and the relation's fields up to the subject
   * ({@code ","relation":"left of","family":"projective","subject":}).
   */
  private final byte[][][] middle;
  private static final byte[] IMAGE_ID = ascii("{\"image_id\":");
  private static final byte[] FILE_NAME = ascii(",\"file_name\":\"");
  private static final byte[] WIDTH = ascii("\",\"width\":");
  private static final byte[] HEIGHT = ascii(",\"height\":");
  private static final byte[] CAPTION = ascii(",\"caption\":\"");
  private static final byte[] BBOX = ascii(",\"bbox\":");
  private static final byte[] OBJECT = ascii("},\"object\":");
  private static final byte[] END = ascii("}}\n");

  RowRenderer(CocoDataset d) {
    this.d = d;
    int c = d.categoryCount();
    subjectWords = new byte[c][];
    categoryHead = new byte[c][];
    for (int i = 0; i < c; i++) {
      String name = d.categoryName(i);
      subjectWords[i] = utf8Escaped(Articles.withArticle(name));
      categoryHead[i] =
          concat(ascii("{\"category\":\""), utf8Escaped(name), ascii("\",\"category_id\":" + d.categoryId(i) + ",\"annotation_id\":"));
    }
    byte[][] phrase = new byte[Relation.COUNT][], relationTail = new byte[Relation.COUNT][];
    for (Relation r : Relation.all()) {
      phrase[r.ordinal()] = ascii(" " + r.phrase() + " ");
      relationTail[r.ordinal()] =
          ascii("\",\"relation\":\"" + r.canonicalName() + "\",\"family\":\"" + r.family().label() + "\",\"subject\":");
    }
    middle = new byte[Relation.COUNT][c][];
    for (int r = 0; r < Relation.COUNT; r++) {
      for (int o = 0; o < c; o++) middle[r][o] = concat(phrase[r], subjectWords[o], relationTail[r]);
    }
  }

  /**
   * The pieces of one image's rows, rendered once per image for the boxes that can be in a row (one instance per
   * thread, reused). For the image's k-th box: its lead (the row head up to and including the subject's words, when
   * the box is the subject), its JSON object followed by {@code ,"object":} (as subject) and by {@code }}\n} (as
   * object).
   */
  static final class ImagePieces {
    final ByteBuf bytes = new ByteBuf(1 << 12);
    int[] category = new int[16];
    /** Start of box k's lead, subject and object piece at 3k, 3k+1, 3k+2; each ends where the next starts. */
    int[] start = new int[3 * 16 + 1];

    void ensureBoxes(int n) {
      if (category.length < n) {
        category = Arrays.copyOf(category, n);
        start = Arrays.copyOf(start, 3 * n + 1);
      }
    }
  }

  /** Renders the pieces of image {@code image}'s boxes {@code boxes[0..n)} (dataset box indices) into {@code p}. */
  void pieces(int image, int[] boxes, int n, ImagePieces p) {
    p.ensureBoxes(n);
    ByteBuf b = p.bytes;
    b.clear();
    // The row head is rendered once and copied in front of each box's words.
    b.put(IMAGE_ID).putLong(d.imageId(image)).put(FILE_NAME).put(utf8Escaped(d.fileName(image))).put(WIDTH);
    b.putAscii(d.widthText(image)).put(HEIGHT).putAscii(d.heightText(image)).put(CAPTION);
    int headLength = b.size();
    for (int k = 0; k < n; k++) {
      int box = boxes[k], c = d.boxCategory(box);
      p.category[k] = c;
      p.start[3 * k] = b.size();
      b.put(b.array(), 0, headLength).put(subjectWords[c]);
      p.start[3 * k + 1] = b.size();
      int json = b.size();
      b.put(categoryHead[c]).putLong(d.annotationId(box)).put(BBOX);
      b.put(d.bboxTextArena(), d.bboxStart(box), d.bboxJsonLength(box));
      int jsonEnd = b.size();
      b.put(OBJECT);
      p.start[3 * k + 2] = b.size();
      b.put(b.array(), json, jsonEnd - json).put(END);
    }
    // The pieces start after the head; the last piece ends at the buffer's end.
    p.start[3 * n] = b.size();
  }

  /** Appends the row (subject = the image's s-th box, {@code relation}, object = its o-th box) to {@code out}. */
  void row(ByteBuf out, ImagePieces p, int s, int relation, int o) {
    byte[] src = p.bytes.array();
    int[] at = p.start;
    byte[] mid = middle[relation][p.category[o]];
    int lead = at[3 * s], subject = at[3 * s + 1], subjectEnd = at[3 * s + 2];
    int object = at[3 * o + 2], objectEnd = at[3 * o + 3];
    out.put(src, lead, subject - lead).put(mid).put(src, subject, subjectEnd - subject).put(src, object, objectEnd - object);
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] utf8Escaped(String s) {
    return JsonStringEncoder.getInstance().quoteAsUTF8(s);
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) n += p.length;
    byte[] out = new byte[n];
    int i = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, i, p.length);
      i += p.length;
    }
    return out;
  }
}

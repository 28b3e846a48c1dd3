package org.sr4g.dataset;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.nio.charset.StandardCharsets;
import org.sr4g.captions.Articles;
import org.sr4g.coco.CocoDataset;
import org.sr4g.relations.Relation;

/**
 * Renders train.jsonl rows straight to bytes. Every constant fragment (caption words, relation and category fields)
 * is encoded once; a row is then a handful of array copies plus two integers, which is what makes writing millions of
 * rows a second possible. Field order is fixed (docs/formats.md) and identical to what Jackson would write.
 */
final class RowRenderer {
  private final CocoDataset d;
  private final byte[][] subjectWords; // "a person"
  private final byte[][] categoryHead; // {"category":"person","category_id":1,"annotation_id":
  private final byte[][] phrase; // " to the left of "
  private final byte[][] relationTail; // ","relation":"left of","family":"projective","subject":
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
    phrase = new byte[Relation.COUNT][];
    relationTail = new byte[Relation.COUNT][];
    for (Relation r : Relation.all()) {
      phrase[r.ordinal()] = ascii(" " + r.phrase() + " ");
      relationTail[r.ordinal()] =
          ascii("\",\"relation\":\"" + r.canonicalName() + "\",\"family\":\"" + r.family().label() + "\",\"subject\":");
    }
  }

  /** {"image_id":..,"file_name":"..","width":..,"height":..,"caption":" — the part shared by an image's rows. */
  byte[] imageHead(int image) {
    return concat(
        ascii("{\"image_id\":" + d.imageId(image) + ",\"file_name\":\""),
        utf8Escaped(d.fileName(image)),
        ascii("\",\"width\":" + d.widthText(image) + ",\"height\":" + d.heightText(image) + ",\"caption\":\""));
  }

  void row(ByteBuf out, byte[] imageHead, int subjectBox, int relation, int objectBox) {
    int cs = d.boxCategory(subjectBox), co = d.boxCategory(objectBox);
    out.put(imageHead).put(subjectWords[cs]).put(phrase[relation]).put(subjectWords[co]).put(relationTail[relation]);
    box(out, cs, subjectBox);
    out.put(OBJECT);
    box(out, co, objectBox);
    out.put(END);
  }

  private void box(ByteBuf out, int category, int b) {
    out.put(categoryHead[category]).putLong(d.annotationId(b)).put(BBOX);
    int len = d.bboxJsonLength(b);
    out.ensure(len);
    out.n = d.copyBboxJson(b, out.a, out.n);
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

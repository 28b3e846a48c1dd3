package org.sr4g.dataset;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.sr4g.captions.Captions;
import org.sr4g.relations.Relation;

/** Val/test prompts: the eval triplets, split 50/50 by a stable hash of the triplet's text. */
final class Prompts {
  /**
   * One prompt.
   *
   * @param uniqueId index of the triplet among all eval triplets (unique across the three prompt files)
   * @param key the triplet ({@link TripletKey})
   * @param support eval images in which the triplet holds
   */
  record Prompt(int uniqueId, int key, int support) {}

  final CategoryTable cats;
  final List<Prompt> val = new ArrayList<>();
  final List<Prompt> test = new ArrayList<>();
  final List<Prompt> testUnseen = new ArrayList<>();

  /** {@code ev} null: no eval input, no prompts. */
  Prompts(CategoryTable cats, boolean[] unseen, EvalPass ev) {
    this.cats = cats;
    if (ev == null) return;
    int c = cats.size();
    int id = 0;
    for (int key = 0; key < ev.support.length; key++) {
      if (ev.support[key] == 0) continue;
      int s = TripletKey.subject(key, c), r = TripletKey.relation(key, c), o = TripletKey.object(key, c);
      Prompt p = new Prompt(id++, key, ev.support[key]);
      if (isTest(cats.names[s], Relation.ofOrdinal(r), cats.names[o])) {
        test.add(p);
        if (unseen[s] && unseen[o]) testUnseen.add(p);
      } else {
        val.add(p);
      }
    }
  }

  PromptCounts counts() {
    return new PromptCounts(val.size(), test.size(), testUnseen.size());
  }

  /** The split of a triplet depends on its names only: stable across seeds, inputs and versions. */
  static boolean isTest(String subject, Relation r, String object) {
    return (Mix.hash(subject + "|" + r.canonicalName() + "|" + object) & 1) == 1;
  }

  void write(Path valFile, Path testFile, Path unseenFile) {
    writeFile(valFile, val);
    writeFile(testFile, test);
    writeFile(unseenFile, testUnseen);
  }

  private void writeFile(Path f, List<Prompt> prompts) {
    int c = cats.size();
    try (OutputStream os = Files.newOutputStream(f, StandardOpenOption.CREATE_NEW);
        JsonGenerator g = new JsonFactory().createGenerator(os, JsonEncoding.UTF8)) {
      g.setRootValueSeparator(null);
      for (Prompt p : prompts) {
        int s = TripletKey.subject(p.key(), c), r = TripletKey.relation(p.key(), c), o = TripletKey.object(p.key(), c);
        Relation rel = Relation.ofOrdinal(r);
        g.writeStartObject();
        g.writeNumberField("unique_id", p.uniqueId());
        g.writeNumberField("num_objects", 2);
        g.writeArrayFieldStart("obj_1_attributes");
        g.writeString(cats.names[s]);
        g.writeEndArray();
        g.writeArrayFieldStart("obj_2_attributes");
        g.writeString(cats.names[o]);
        g.writeEndArray();
        g.writeStringField("rel_type", rel.phrase());
        g.writeStringField("text", Captions.caption(cats.names[s], rel, cats.names[o]));
        g.writeStringField("relation", rel.canonicalName());
        g.writeStringField("family", rel.family().label());
        g.writeNumberField("support", p.support());
        g.writeEndObject();
        g.writeRaw('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package org.sr4g.dataset;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sr4g.captions.Articles;
import org.sr4g.coco.DropReason;
import org.sr4g.io.PrettyJson;
import org.sr4g.relations.Family;
import org.sr4g.relations.Relation;

/**
 * prompts_val/test/test_unseen.jsonl, triplets.csv and stats.json from the totals of the two passes: the
 * single-machine path and the Spark job share this code, so these files are byte-identical between them.
 */
public final class SummaryFiles {
  private SummaryFiles() {}

  /**
   * Writes the five files into {@code out}. {@code eval} and {@code ev} are null without eval input.
   *
   * @return how many prompts each prompt file got
   */
  public static PromptCounts write(
      OutputDir out, CategoryTable cats, boolean[] unseen, InputCounts train, InputCounts eval, PairStats st, EvalPass ev) {
    Prompts prompts = new Prompts(cats, unseen, ev);
    prompts.write(out.file("prompts_val.jsonl"), out.file("prompts_test.jsonl"), out.file("prompts_test_unseen.jsonl"));
    writeTriplets(out.file("triplets.csv"), cats, st);
    PrettyJson.write(out.file("stats.json"), stats(train, eval, cats, unseen, st, ev, prompts));
    return prompts.counts();
  }

  private static void writeTriplets(Path f, CategoryTable cats, PairStats st) {
    int c = cats.size();
    try (BufferedWriter w = Files.newBufferedWriter(f, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW)) {
      w.write("subject,relation,object,count\n");
      for (int key = 0; key < st.triplets.length; key++) {
        if (st.triplets[key] == 0) continue;
        int s = TripletKey.subject(key, c), r = TripletKey.relation(key, c), o = TripletKey.object(key, c);
        w.write(csv(cats.names[s]) + "," + Relation.ofOrdinal(r).canonicalName() + "," + csv(cats.names[o]) + "," + st.triplets[key] + "\n");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String csv(String field) {
    // RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled (TripletCounts reads it back).
    if (field.indexOf(',') < 0 && field.indexOf('"') < 0 && field.indexOf('\n') < 0 && field.indexOf('\r') < 0) return field;
    return "\"" + field.replace("\"", "\"\"") + "\"";
  }

  private static Map<String, Object> stats(
      InputCounts train, InputCounts eval, CategoryTable cats, boolean[] unseen, PairStats st, EvalPass ev, Prompts prompts) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("images", ordered("train", train.images(), "train_with_pairs", st.imagesWithPairs, "eval", eval == null ? 0 : eval.images()));
    m.put("boxes", ordered("train_read", train.boxesRead(), "train_eligible", st.eligibleBoxes,
        "eval_read", eval == null ? 0 : eval.boxesRead(), "eval_eligible", ev == null ? 0 : ev.eligibleBoxes));
    m.put("dropped_boxes", ordered("train", dropped(train, st.dropped),
        "eval", eval == null ? dropped(null, new long[DropReason.values().length]) : dropped(eval, ev.dropped)));
    m.put("pairs", ordered("train_eligible", st.eligiblePairs, "train_without_selected_relation", st.pairsWithoutRelation,
        "eval_eligible", ev == null ? 0 : ev.eligiblePairs));
    PromptCounts pc = prompts.counts();
    m.put("rows", ordered("train", st.rows, "train_unseen", st.seenPairRows, "prompts_val", pc.val(),
        "prompts_test", pc.test(), "prompts_test_unseen", pc.testUnseen()));
    relationsAndFamilies(m, cats, st, prompts);
    m.put("categories", categories(cats, unseen, st, eval));
    return m;
  }

  /** {@code relations} and {@code families}: per relation (family), the counts of each output file. */
  private static void relationsAndFamilies(Map<String, Object> m, CategoryTable cats, PairStats st, Prompts prompts) {
    long[][] promptRel = new long[3][Relation.COUNT];
    int c = cats.size();
    List<List<Prompts.Prompt>> lists = List.of(prompts.val, prompts.test, prompts.testUnseen);
    for (int i = 0; i < 3; i++) for (Prompts.Prompt p : lists.get(i)) promptRel[i][TripletKey.relation(p.key(), c)]++;
    Map<String, Object> rel = new LinkedHashMap<>();
    Map<String, Map<String, Long>> fam = new LinkedHashMap<>();
    for (Family f : Family.values()) fam.put(f.label(), splitCounts(0, 0, 0, 0, 0));
    for (Relation r : Relation.all()) {
      int i = r.ordinal();
      Map<String, Long> sc =
          splitCounts(st.rowsByRelation[i], st.seenPairRowsByRelation[i], promptRel[0][i], promptRel[1][i], promptRel[2][i]);
      rel.put(r.canonicalName(), sc);
      Map<String, Long> f = fam.get(r.family().label());
      for (Map.Entry<String, Long> e : sc.entrySet()) f.merge(e.getKey(), e.getValue(), Long::sum);
    }
    m.put("relations", rel);
    m.put("families", fam);
  }

  private static Map<String, Object> categories(CategoryTable cats, boolean[] unseen, PairStats st, InputCounts eval) {
    long[] evalBoxes = eval == null ? new long[cats.size()] : eval.boxesByCategory();
    Map<String, Object> perCat = new LinkedHashMap<>();
    for (int i = 0; i < cats.size(); i++) {
      perCat.put(cats.names[i], ordered("id", cats.ids[i], "article", Articles.of(cats.names[i]), "unseen", unseen[i],
          "train_eligible_boxes", st.eligibleBoxesByCategory[i], "train_subject_rows", st.subjectRowsByCategory[i],
          "train_object_rows", st.objectRowsByCategory[i], "eval_boxes", evalBoxes[i]));
    }
    return perCat;
  }

  /** A map of (key, value) pairs in the order given. */
  private static Map<String, Object> ordered(Object... keyValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) m.put((String) keyValues[i], keyValues[i + 1]);
    return m;
  }

  private static Map<String, Long> splitCounts(long train, long trainUnseen, long val, long test, long testUnseen) {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("train", train);
    m.put("train_unseen", trainUnseen);
    m.put("prompts_val", val);
    m.put("prompts_test", test);
    m.put("prompts_test_unseen", testUnseen);
    return m;
  }

  private static Map<String, Long> dropped(InputCounts d, long[] passDropped) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (DropReason r : DropReason.values()) m.put(r.key(), passDropped[r.ordinal()] + (d == null ? 0 : d.readDropped()[r.ordinal()]));
    return m;
  }
}

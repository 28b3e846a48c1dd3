package org.sr4g.dataset;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.sr4g.Sr4gVersion;
import org.sr4g.UserInputException;
import org.sr4g.captions.Articles;
import org.sr4g.captions.Captions;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.CocoReader;
import org.sr4g.coco.CocoSource;
import org.sr4g.coco.DropReason;
import org.sr4g.relations.Family;
import org.sr4g.relations.Relation;
import org.sr4g.relations.RelationKernel;

/**
 * {@code sr4g generate}: COCO instance files in, the SR4G dataset out (train rows, unseen-object split, evaluation
 * prompts, statistics, manifest). See docs/formats.md for every file and docs/relations.md for the rules.
 */
public final class Sr4gGenerator {
  /** Name of the taxonomy written to the manifest; bump when any rule changes. */
  public static final String TAXONOMY = "sr4g14";

  private final GenerateOptions opt;
  private final RelationKernel kernel;
  private Progress progress = Progress.NONE;

  public Sr4gGenerator(GenerateOptions opt) {
    this(opt, RelationKernel.best());
  }

  public Sr4gGenerator(GenerateOptions opt, RelationKernel kernel) {
    this.opt = opt;
    this.kernel = kernel;
  }

  public Sr4gGenerator onProgress(Progress p) {
    this.progress = p;
    return this;
  }

  /**
   * Runs the whole job into {@code out} (already checked by {@link OutputDir#prepare}); {@code unseenOrigin} names
   * where explicit unseen categories came from, for messages.
   */
  public GenerateResult run(List<CocoSource> train, List<CocoSource> eval, String unseenOrigin, OutputDir out) {
    if (train.isEmpty()) throw new UserInputException("no --train input");
    long t0 = System.nanoTime();
    List<CocoSource> all = new ArrayList<>(train);
    all.addAll(eval);
    // Hash inputs on another thread while this one parses: the digest is for the manifest, not on the hot path.
    CompletableFuture<List<String>> digests = CompletableFuture.supplyAsync(() -> sha256All(all));
    long inputBytes = all.stream().mapToLong(CocoSource::size).sum();

    long trainBytes = train.stream().mapToLong(CocoSource::size).sum();
    CocoDataset trainSet =
        new CocoReader(opt.lenient())
            .parallelism(opt.threads())
            .onProgress(b -> progress.update("reading train", b, trainBytes))
            .read(train);
    CocoDataset evalSet = null;
    if (!eval.isEmpty()) {
      long evalBytes = eval.stream().mapToLong(CocoSource::size).sum();
      evalSet =
          new CocoReader(opt.lenient())
              .parallelism(opt.threads())
              .onProgress(b -> progress.update("reading eval", b, evalBytes))
              .read(eval);
    }
    long t1 = System.nanoTime();

    List<CocoDataset> sets = new ArrayList<>();
    sets.add(trainSet);
    if (evalSet != null) sets.add(evalSet);
    CategoryTable cats = CategoryTable.merge(sets);
    boolean[] unseen = unseenCategories(cats, opt, unseenOrigin);

    PairStats st =
        new TrainPass(trainSet, opt, cats, unseen, kernel)
            .run(out.file("train.jsonl"), out.file("train_unseen.jsonl"), progress);
    long t2 = System.nanoTime();

    EvalPass ev = evalSet == null ? null : new EvalPass(evalSet, opt, cats, kernel);
    Prompts prompts =
        writeSummary(out, cats, unseen, InputCounts.of(trainSet, cats), evalSet == null ? null : InputCounts.of(evalSet, cats), st, ev);
    List<String> unseenNames = unseenNames(cats, unseen);
    long t3 = System.nanoTime();

    List<String> sha;
    try {
      sha = digests.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException ? (RuntimeException) e.getCause() : e;
    }
    long[] byFamily = new long[Family.values().length];
    for (Relation r : Relation.all()) byFamily[r.family().ordinal()] += st.rowsByRelation[r.ordinal()];
    long total = System.nanoTime() - t0;
    Map<String, Object> manifest = new LinkedHashMap<>();
    manifest.put("tool", "sr4g");
    manifest.put("version", Sr4gVersion.get());
    manifest.put("command", "generate");
    manifest.put("taxonomy", TAXONOMY);
    manifest.put("options", manifestOptions(opt));
    List<Object> inputs = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      Map<String, Object> in = new LinkedHashMap<>();
      in.put("role", i < train.size() ? "train" : "eval");
      in.put("name", all.get(i).name());
      in.put("bytes", all.get(i).size());
      in.put("sha256", sha.get(i));
      inputs.add(in);
    }
    manifest.put("inputs", inputs);
    manifest.put("seed", opt.seed());
    manifest.put("unseen_categories", unseenNames);
    Map<String, Object> counts = new LinkedHashMap<>();
    counts.put("train_images", trainSet.imageCount());
    counts.put("train_boxes", trainSet.boxCount());
    counts.put("eligible_pairs", st.eligiblePairs);
    counts.put("train_rows", st.rows);
    counts.put("train_unseen_rows", st.unseenRows);
    counts.put("prompts_val", prompts.val.size());
    counts.put("prompts_test", prompts.test.size());
    counts.put("prompts_test_unseen", prompts.testUnseen.size());
    manifest.put("counts", counts);
    // Everything above is a function of inputs and options; what follows describes this particular run.
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("threads", opt.threads());
    run.put("kernel", kernel.name());
    run.put("java", Runtime.version().toString());
    Map<String, Object> timings = new LinkedHashMap<>();
    timings.put("read_ms", (t1 - t0) / 1_000_000);
    timings.put("relate_and_write_train_ms", (t2 - t1) / 1_000_000);
    timings.put("eval_prompts_and_stats_ms", (t3 - t2) / 1_000_000);
    timings.put("total_ms", total / 1_000_000);
    run.put("timings", timings);
    manifest.put("run", run);
    writeJson(out.file("manifest.json"), manifest);

    return new GenerateResult(
        out.target(), kernel.name(), trainSet.imageCount(), trainSet.boxCount(), st.eligiblePairs, st.rows,
        st.unseenRows, byFamily, prompts.val.size(), prompts.test.size(), prompts.testUnseen.size(), unseenNames,
        inputBytes, t1 - t0, t2 - t1, total);
  }

  /** The unseen flags by merged category index: {@code --unseen-categories} names, else a seeded random split. */
  public static boolean[] unseenCategories(CategoryTable cats, GenerateOptions opt, String unseenOrigin) {
    return opt.unseenCategories() != null
        ? UnseenSplit.named(cats, opt.unseenCategories(), unseenOrigin)
        : UnseenSplit.random(cats, opt.unseenFraction(), opt.seed());
  }

  public static List<String> unseenNames(CategoryTable cats, boolean[] unseen) {
    List<String> unseenNames = new ArrayList<>();
    for (int c = 0; c < cats.size(); c++) if (unseen[c]) unseenNames.add(cats.names[c]);
    return unseenNames;
  }

  /**
   * What stats.json needs to know about an input beyond the passes' counters.
   *
   * @param readDropped boxes dropped while reading, by {@link DropReason#ordinal()}
   * @param boxesByCategory kept boxes (read-time drops excluded) by merged category index
   */
  public record InputCounts(long images, long boxesRead, long[] readDropped, long[] boxesByCategory) {
    static InputCounts of(CocoDataset d, CategoryTable cats) {
      long[] readDropped = new long[DropReason.values().length];
      for (Map.Entry<DropReason, Long> e : d.dropped().entrySet()) readDropped[e.getKey().ordinal()] += e.getValue();
      long[] byCat = new long[cats.size()];
      int[] map = cats.mapping(d);
      for (int b = 0; b < d.boxCount(); b++) byCat[map[d.boxCategory(b)]]++;
      long read = d.boxCount();
      for (long v : readDropped) read += v;
      return new InputCounts(d.imageCount(), read, readDropped, byCat);
    }
  }

  /**
   * Writes prompts_val/test/test_unseen.jsonl, triplets.csv and stats.json from the totals of the two passes: the
   * single-machine path and the Spark job share this code. {@code eval} and {@code ev} are null without eval input.
   *
   * @return the prompt counts {val, test, test_unseen}
   */
  public static int[] writeSummaryFiles(
      OutputDir out, CategoryTable cats, boolean[] unseen, InputCounts train, InputCounts eval, PairStats st, EvalPass ev) {
    Prompts p = writeSummary(out, cats, unseen, train, eval, st, ev);
    return new int[] {p.val.size(), p.test.size(), p.testUnseen.size()};
  }

  private static Prompts writeSummary(
      OutputDir out, CategoryTable cats, boolean[] unseen, InputCounts train, InputCounts eval, PairStats st, EvalPass ev) {
    Prompts prompts = new Prompts(cats, unseen, ev);
    prompts.write(out.file("prompts_val.jsonl"), out.file("prompts_test.jsonl"), out.file("prompts_test_unseen.jsonl"));
    writeTriplets(out.file("triplets.csv"), cats, st);
    writeJson(out.file("stats.json"), stats(train, eval, cats, unseen, st, ev, prompts));
    return prompts;
  }

  /** The manifest's {@code options} block: every option that changes the output. */
  public static Map<String, Object> manifestOptions(GenerateOptions opt) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("emit", opt.emitAll() ? "all" : "one");
    List<String> rels = new ArrayList<>();
    for (Relation r : Relation.fromMask(opt.relationMask())) rels.add(r.canonicalName());
    o.put("relations", rels);
    o.put("same_category", opt.sameCategory());
    o.put("min_area", opt.minArea());
    o.put("max_objects", opt.maxObjects());
    o.put("seed", opt.seed());
    o.put("unseen_fraction", opt.unseenCategories() == null ? opt.unseenFraction() : null);
    o.put("unseen_categories_given", opt.unseenCategories() != null);
    o.put("lenient", opt.lenient());
    return o;
  }

  /** Val/test prompts: the eval triplets, split 50/50 by a stable hash of the triplet's text. */
  static final class Prompts {
    final CategoryTable cats;
    final boolean[] unseen;
    final List<int[]> val = new ArrayList<>(); // {uniqueId, key, support}
    final List<int[]> test = new ArrayList<>();
    final List<int[]> testUnseen = new ArrayList<>();

    Prompts(CategoryTable cats, boolean[] unseen, EvalPass ev) {
      this.cats = cats;
      this.unseen = unseen;
      if (ev == null) return;
      int c = cats.size();
      int id = 0;
      for (int key = 0; key < ev.support.length; key++) {
        if (ev.support[key] == 0) continue;
        int s = TripletKey.subject(key, c), r = TripletKey.relation(key, c), o = TripletKey.object(key, c);
        int[] p = {id++, key, ev.support[key]};
        if (isTest(cats.names[s], Relation.ofOrdinal(r), cats.names[o])) {
          test.add(p);
          if (unseen[s] && unseen[o]) testUnseen.add(p);
        } else {
          val.add(p);
        }
      }
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

    private void writeFile(Path f, List<int[]> prompts) {
      int c = cats.size();
      try (OutputStream os = Files.newOutputStream(f, StandardOpenOption.CREATE_NEW);
          JsonGenerator g = new JsonFactory().createGenerator(os, JsonEncoding.UTF8)) {
        g.setRootValueSeparator(null);
        for (int[] p : prompts) {
          int key = p[1];
          int s = TripletKey.subject(key, c), r = TripletKey.relation(key, c), o = TripletKey.object(key, c);
          Relation rel = Relation.ofOrdinal(r);
          g.writeStartObject();
          g.writeNumberField("unique_id", p[0]);
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
          g.writeNumberField("support", p[2]);
          g.writeEndObject();
          g.writeRaw('\n');
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
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
    Map<String, Object> images = new LinkedHashMap<>();
    images.put("train", train.images());
    images.put("train_with_pairs", st.imagesWithPairs);
    images.put("eval", eval == null ? 0 : eval.images());
    m.put("images", images);
    Map<String, Object> boxes = new LinkedHashMap<>();
    boxes.put("train_read", train.boxesRead());
    boxes.put("train_eligible", st.eligibleBoxes);
    boxes.put("eval_read", eval == null ? 0 : eval.boxesRead());
    boxes.put("eval_eligible", ev == null ? 0 : ev.eligibleBoxes);
    m.put("boxes", boxes);
    Map<String, Object> dropped = new LinkedHashMap<>();
    dropped.put("train", dropped(train, st.dropped));
    dropped.put("eval", eval == null ? dropped(null, new long[DropReason.values().length]) : dropped(eval, ev.dropped));
    m.put("dropped_boxes", dropped);
    Map<String, Object> pairs = new LinkedHashMap<>();
    pairs.put("train_eligible", st.eligiblePairs);
    pairs.put("train_without_selected_relation", st.pairsWithoutRelation);
    pairs.put("eval_eligible", ev == null ? 0 : ev.eligiblePairs);
    m.put("pairs", pairs);
    Map<String, Object> rows = new LinkedHashMap<>();
    rows.put("train", st.rows);
    rows.put("train_unseen", st.unseenRows);
    rows.put("prompts_val", prompts.val.size());
    rows.put("prompts_test", prompts.test.size());
    rows.put("prompts_test_unseen", prompts.testUnseen.size());
    m.put("rows", rows);

    long[][] promptRel = new long[3][Relation.COUNT];
    int c = cats.size();
    List<List<int[]>> lists = List.of(prompts.val, prompts.test, prompts.testUnseen);
    for (int i = 0; i < 3; i++) for (int[] p : lists.get(i)) promptRel[i][TripletKey.relation(p[1], c)]++;
    Map<String, Object> rel = new LinkedHashMap<>();
    Map<String, Map<String, Long>> fam = new LinkedHashMap<>();
    for (Family f : Family.values()) fam.put(f.label(), splitCounts(0, 0, 0, 0, 0));
    for (Relation r : Relation.all()) {
      int i = r.ordinal();
      Map<String, Long> sc =
          splitCounts(st.rowsByRelation[i], st.unseenRowsByRelation[i], promptRel[0][i], promptRel[1][i], promptRel[2][i]);
      rel.put(r.canonicalName(), sc);
      Map<String, Long> f = fam.get(r.family().label());
      for (Map.Entry<String, Long> e : sc.entrySet()) f.merge(e.getKey(), e.getValue(), Long::sum);
    }
    m.put("relations", rel);
    m.put("families", fam);

    long[] evalBoxes = eval == null ? new long[c] : eval.boxesByCategory();
    Map<String, Object> perCat = new LinkedHashMap<>();
    for (int i = 0; i < c; i++) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("id", cats.ids[i]);
      e.put("article", Articles.of(cats.names[i]));
      e.put("unseen", unseen[i]);
      e.put("train_eligible_boxes", st.eligibleBoxesByCategory[i]);
      e.put("train_subject_rows", st.subjectRowsByCategory[i]);
      e.put("train_object_rows", st.objectRowsByCategory[i]);
      e.put("eval_boxes", evalBoxes[i]);
      perCat.put(cats.names[i], e);
    }
    m.put("categories", perCat);
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
    for (DropReason r : DropReason.values()) {
      long v = passDropped[r.ordinal()] + (d == null ? 0 : d.readDropped()[r.ordinal()]);
      m.put(r.key(), v);
    }
    return m;
  }

  public static void writeJson(Path f, Object value) {
    ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    om.getFactory().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    DefaultPrettyPrinter pp = new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"));
    try (OutputStream os = Files.newOutputStream(f, StandardOpenOption.CREATE_NEW)) {
      om.writer(pp).writeValue(os, value);
      os.write('\n');
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> sha256All(List<CocoSource> sources) {
    List<String> out = new ArrayList<>();
    byte[] buf = new byte[1 << 20];
    for (CocoSource s : sources) {
      try (InputStream in = s.open()) {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        out.add(HexFormat.of().formatHex(md.digest()));
      } catch (IOException e) {
        throw new UserInputException(s + ": cannot read: " + e.getMessage(), e);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }
}

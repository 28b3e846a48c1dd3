package org.sr4g.dataset;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sr4g.Sr4gVersion;
import org.sr4g.io.PrettyJson;
import org.sr4g.relations.Relation;

/**
 * manifest.json of {@code generate} and {@code spark-generate} (docs/formats.md): what was run on what. Everything but
 * {@code run} is a function of the inputs and options; {@code run} describes the particular run (threads, JVM,
 * timings). One record, one writer, for both commands.
 *
 * @param command {@code generate} or {@code spark-generate}
 * @param options every option that changes the output ({@link #options(GenerateOptions)} plus a command's own)
 * @param rejectedRows rows the Spark job refused, by input role and reason (null for {@code generate})
 * @param layout where the train files are in a Spark output (null for {@code generate})
 */
public record Manifest(
    String command,
    Map<String, Object> options,
    List<Input> inputs,
    long seed,
    List<String> unseenCategories,
    Counts counts,
    Map<String, Map<String, Long>> rejectedRows,
    Map<String, String> layout,
    Map<String, Object> run) {

  /** Name of the taxonomy written to the manifest; bump when any rule changes. */
  public static final String TAXONOMY = "sr4g14";

  /**
   * One input file (or table).
   *
   * @param bytes its size, null when unknown (remote tables)
   * @param sha256 hex digest, null when not computed (the Spark job does not hash terabytes)
   */
  public record Input(String role, String name, Long bytes, String sha256) {}

  /** The headline counts; {@code trainUnseenRows} are the rows of train_unseen.jsonl. */
  public record Counts(
      long trainImages, long trainBoxes, long eligiblePairs, long trainRows, long trainUnseenRows, PromptCounts prompts) {}

  /** The options block: every option of {@code generate} that changes the output, in a fixed order. */
  public static Map<String, Object> options(GenerateOptions opt) {
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

  public void write(Path file) {
    PrettyJson.write(file, toJson());
  }

  Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tool", "sr4g");
    m.put("version", Sr4gVersion.get());
    m.put("command", command);
    m.put("taxonomy", TAXONOMY);
    m.put("options", options);
    List<Object> in = new ArrayList<>();
    for (Input i : inputs) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("role", i.role());
      e.put("name", i.name());
      e.put("bytes", i.bytes());
      if (i.sha256() != null) e.put("sha256", i.sha256());
      in.add(e);
    }
    m.put("inputs", in);
    m.put("seed", seed);
    m.put("unseen_categories", unseenCategories);
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("train_images", counts.trainImages());
    c.put("train_boxes", counts.trainBoxes());
    c.put("eligible_pairs", counts.eligiblePairs());
    c.put("train_rows", counts.trainRows());
    c.put("train_unseen_rows", counts.trainUnseenRows());
    c.put("prompts_val", counts.prompts().val());
    c.put("prompts_test", counts.prompts().test());
    c.put("prompts_test_unseen", counts.prompts().testUnseen());
    m.put("counts", c);
    if (rejectedRows != null) m.put("rejected_rows", rejectedRows);
    if (layout != null) m.put("layout", layout);
    m.put("run", run);
    return m;
  }
}

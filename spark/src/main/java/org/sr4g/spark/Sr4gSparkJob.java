package org.sr4g.spark;

import static org.apache.spark.sql.functions.sum;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.sr4g.UserInputException;
import org.sr4g.coco.CocoDataset;
import org.sr4g.dataset.CategoryTable;
import org.sr4g.dataset.GenerateOptions;
import org.sr4g.dataset.Manifest;
import org.sr4g.dataset.PairStats;
import org.sr4g.dataset.PromptCounts;
import org.sr4g.dataset.SummaryFiles;
import org.sr4g.dataset.UnseenSplit;
import org.sr4g.relations.RelationKernel;

/**
 * {@code sr4g spark-generate}: the SR4G dataset from box tables (Parquet or JSONL, one row per box) on Spark. Each
 * image goes through the same core code as {@code sr4g generate} ({@link org.sr4g.dataset.ImageRelator},
 * {@link org.sr4g.dataset.EvalImage}, the row renderer and the summary writer), so the rows are the same set and
 * stats.json, triplets.csv and the prompt files are byte-identical. See docs/scale-out.md.
 *
 * <p>This class is the plan; {@link BoxTables} reads the inputs, {@link Passes} holds the per-partition functions,
 * {@link SparkOutput} stages the output. Plan: read, group the boxes by image ({@code groupBy(image_id)} + {@code collect_list}, one shuffle; skipped
 * when the input already has one row per image), persist the groups, then (1) count (relations, no rendering) and sum
 * the counters with {@code groupBy(key).sum}, (2) the same for the eval input, (3) render and write the rows
 * partitioned by split. Small files are written on the driver.
 */
public final class Sr4gSparkJob {
  private Sr4gSparkJob() {}

  /** Everything the job needs besides the SparkSession. */
  public record Options(
      List<String> train,
      List<String> eval,
      InputFormat inputFormat,
      String out,
      boolean force,
      OutputFormat outputFormat,
      GenerateOptions generate,
      String unseenOrigin,
      Double minScore,
      boolean strict,
      boolean checkIds,
      Integer partitions,
      int imagesPerBatch) {}

  /** What the CLI prints. */
  public record Result(
      String out, long trainImages, long trainBoxesRead, long eligiblePairs, long rows, long trainUnseenRows, long evalImages,
      PromptCounts prompts, Map<String, Long> trainRejected, Map<String, Long> evalRejected, List<String> unseenCategories,
      Map<String, Long> timingsMs) {}

  /** The train.jsonl fields as Parquet columns (numbers as doubles/longs; JSONL keeps the input's number text). */
  static final StructType TRAIN_ROW_SCHEMA;

  static {
    StructType box =
        new StructType()
            .add("category", DataTypes.StringType)
            .add("category_id", DataTypes.LongType)
            .add("annotation_id", DataTypes.LongType)
            .add("bbox", DataTypes.createArrayType(DataTypes.DoubleType));
    TRAIN_ROW_SCHEMA =
        new StructType()
            .add("image_id", DataTypes.LongType)
            .add("file_name", DataTypes.StringType)
            .add("width", DataTypes.DoubleType)
            .add("height", DataTypes.DoubleType)
            .add("caption", DataTypes.StringType)
            .add("relation", DataTypes.StringType)
            .add("family", DataTypes.StringType)
            .add("subject", box)
            .add("object", box);
  }

  public static Result run(SparkSession spark, Options o) {
    if (o.train().isEmpty()) throw new UserInputException("no --train input");
    if (o.partitions() != null) {
      if (o.partitions() < 1) throw new UserInputException("--partitions must be >= 1");
      spark.conf().set("spark.sql.shuffle.partitions", String.valueOf(o.partitions()));
      // Keep exactly the partitions asked for (the equality tests run with 1 and several).
      spark.conf().set("spark.sql.adaptive.coalescePartitions.enabled", "false");
    }
    Map<String, Long> timings = new LinkedHashMap<>();
    long t0 = System.nanoTime();
    Dataset<Row> trainBoxes = BoxTables.read(spark, o.train(), o.inputFormat());
    Dataset<Row> evalBoxes = o.eval().isEmpty() ? null : BoxTables.read(spark, o.eval(), o.inputFormat());

    List<CocoDataset> catSets = new ArrayList<>();
    catSets.add(BoxTables.categories(trainBoxes, String.join(", ", o.train())));
    if (evalBoxes != null) catSets.add(BoxTables.categories(evalBoxes, String.join(", ", o.eval())));
    CategoryTable cats = CategoryTable.merge(catSets);
    // The driver holds the summed counters and, in local mode, the tasks' own: refuse what cannot fit here.
    PairStats.requireTripletTablesFit(cats.size(), 2, String.join(", ", o.train()));
    GenerateOptions gen = o.generate();
    boolean[] unseen = UnseenSplit.of(cats, gen, o.unseenOrigin());
    JobConfig cfg = new JobConfig(gen, o.minScore(), cats.ids(), cats.names(), unseen, o.imagesPerBatch());
    timings.put("categories_ms", ms(t0));

    try (SparkOutput out = SparkOutput.prepare(spark, o.out(), o.force())) {
      long t1 = System.nanoTime();
      Dataset<Row> trainImages = BoxTables.group(trainBoxes).persist(StorageLevel.MEMORY_AND_DISK());
      try {
        Counters train = sumCounters(trainImages, new Passes.TrainCounts(cfg), cats.size(), false);
        timings.put("train_counts_ms", ms(t1));
        Counters eval = null;
        long t2 = System.nanoTime();
        if (evalBoxes != null) eval = sumCounters(BoxTables.group(evalBoxes), new Passes.EvalCounts(cfg), cats.size(), true);
        timings.put("eval_counts_ms", ms(t2));
        if (o.checkIds()) {
          train.problems[Problem.ANNOTATION_ID_IN_SEVERAL_IMAGES.ordinal()] = BoxTables.rowsWithIdsInSeveralImages(trainBoxes);
          if (eval != null) eval.problems[Problem.ANNOTATION_ID_IN_SEVERAL_IMAGES.ordinal()] = BoxTables.rowsWithIdsInSeveralImages(evalBoxes);
        }
        if (o.strict()) {
          strict("train", train);
          if (eval != null) strict("eval", eval);
        }

        long t3 = System.nanoTime();
        writeRows(trainImages, cfg, o.outputFormat(), out.rowsDir());
        timings.put("write_rows_ms", ms(t3));

        long t4 = System.nanoTime();
        PromptCounts prompts =
            SummaryFiles.write(
                out.smallFiles(), cats, unseen, train.inputCounts(), eval == null ? null : eval.inputCounts(), train.pairs,
                eval == null ? null : eval.evalPass());
        List<String> unseenNames = UnseenSplit.names(cats, unseen);
        Map<String, Long> trainRejected = rejected(train), evalRejected = eval == null ? new LinkedHashMap<>() : rejected(eval);
        timings.put("summary_ms", ms(t4));
        timings.put("total_ms", ms(t0));
        manifest(spark, o, unseenNames, train, prompts, trainRejected, evalRejected, timings)
            .write(out.smallFiles().file("manifest.json"));
        out.commit();
        return new Result(
            out.target(), train.images, train.boxesRead, train.pairs.eligiblePairs, train.pairs.rows,
            train.pairs.seenPairRows, eval == null ? 0 : eval.images, prompts, trainRejected, evalRejected, unseenNames,
            timings);
      } finally {
        trainImages.unpersist();
      }
    }
  }

  /** The rows pass: rendered by the core row renderer, written partitioned by split. */
  private static void writeRows(Dataset<Row> trainImages, JobConfig cfg, OutputFormat format, String rowsDir) {
    switch (format) {
      case NOOP:
        // Measurement only: every row is rendered, nothing is written.
        trainImages.mapPartitions(new Passes.TrainRows(cfg), Encoders.row(Passes.ROW_SCHEMA)).write().format("noop").mode("overwrite").save();
        break;
      case JSONL:
        trainImages.mapPartitions(new Passes.TrainRows(cfg), Encoders.row(Passes.ROW_SCHEMA)).write().partitionBy("split").text(rowsDir);
        break;
      default:
        // Columns built from the same emitted rows (no JSON round trip).
        trainImages
            .mapPartitions(new Passes.TrainRows(cfg, true), Encoders.row(Passes.COLUMNS_SCHEMA))
            .write()
            .partitionBy("split")
            .parquet(rowsDir);
    }
  }

  private static long ms(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }

  private static Counters sumCounters(Dataset<Row> images, MapPartitionsFunction<Row, Row> pass, int categories, boolean eval) {
    List<Row> sums =
        images.mapPartitions(pass, Encoders.row(Passes.COUNTER_SCHEMA)).groupBy("key").agg(sum("value")).collectAsList();
    Map<Long, Long> totals = new HashMap<>();
    for (Row r : sums) totals.put(r.getLong(0), r.getLong(1));
    return Counters.fromTotals(totals, categories, eval);
  }

  private static Map<String, Long> rejected(Counters c) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (Problem p : Problem.values()) m.put(p.key(), c.problems[p.ordinal()]);
    return m;
  }

  private static void strict(String role, Counters c) {
    List<String> bad = new ArrayList<>();
    for (Problem p : Problem.values()) if (p.isError() && c.problems[p.ordinal()] > 0) bad.add(c.problems[p.ordinal()] + " " + p.key());
    if (!bad.isEmpty()) throw new UserInputException("--strict: " + role + " input has rejected rows: " + String.join(", ", bad));
  }

  private static Manifest manifest(
      SparkSession spark, Options o, List<String> unseenNames, Counters train, PromptCounts prompts,
      Map<String, Long> trainRejected, Map<String, Long> evalRejected, Map<String, Long> timings) {
    Map<String, Object> options = Manifest.options(o.generate());
    options.put("min_score", o.minScore());
    options.put("strict", o.strict());
    options.put("check_ids", o.checkIds());
    options.put("output_format", o.outputFormat().toString());
    List<Manifest.Input> inputs = new ArrayList<>();
    for (String p : o.train()) inputs.add(new Manifest.Input("train", p, BoxTables.bytes(p), null));
    for (String p : o.eval()) inputs.add(new Manifest.Input("eval", p, BoxTables.bytes(p), null));
    Manifest.Counts counts = new Manifest.Counts(
        train.images, train.boxesRead, train.pairs.eligiblePairs, train.pairs.rows, train.pairs.seenPairRows, prompts);
    Map<String, Map<String, Long>> rejected = new LinkedHashMap<>();
    rejected.put("train", trainRejected);
    rejected.put("eval", evalRejected);
    Map<String, String> layout = new LinkedHashMap<>();
    layout.put("train.jsonl", "train/ (all split=* partitions)");
    layout.put("train_unseen.jsonl", "train/split=seen/");
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("spark", spark.version());
    run.put("master", spark.sparkContext().master());
    run.put("shuffle_partitions", spark.conf().get("spark.sql.shuffle.partitions"));
    run.put("driver_kernel", RelationKernel.best().name());
    run.put("java", Runtime.version().toString());
    run.put("timings", timings);
    return new Manifest(
        "spark-generate", options, inputs, o.generate().seed(), unseenNames, counts, rejected, layout, run);
  }
}

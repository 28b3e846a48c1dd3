package org.sr4g.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.sr4g.Sr4gVersion;
import org.sr4g.UserInputException;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.CocoDatasetBuilder;
import org.sr4g.dataset.CategoryTable;
import org.sr4g.dataset.GenerateOptions;
import org.sr4g.dataset.OutputDir;
import org.sr4g.dataset.Sr4gGenerator;
import org.sr4g.relations.RelationKernel;

/**
 * {@code sr4g spark-generate}: the SR4G dataset from box tables (Parquet or JSONL, one row per box) on Spark. Each
 * image goes through the same core code as {@code sr4g generate} ({@link org.sr4g.dataset.ImageRelator},
 * {@link org.sr4g.dataset.EvalImage}, the row renderer and the summary writer), so the rows are the same set and
 * stats.json, triplets.csv and the prompt files are byte-identical. See docs/scale-out.md.
 *
 * <p>Plan: read, group the boxes by image ({@code groupBy(image_id)} + {@code collect_list}, one shuffle; skipped
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
      String inputFormat,
      String out,
      boolean force,
      String outputFormat,
      GenerateOptions generate,
      String unseenOrigin,
      Double minScore,
      boolean strict,
      boolean checkIds,
      Integer partitions,
      int imagesPerBatch) {}

  /** What the CLI prints. */
  public record Result(
      String out, long trainImages, long trainBoxesRead, long eligiblePairs, long rows, long unseenRows, long evalImages,
      int[] prompts, Map<String, Long> trainRejected, Map<String, Long> evalRejected, List<String> unseenCategories,
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
    if (!List.of("jsonl", "parquet", "noop").contains(o.outputFormat())) {
      throw new UserInputException("--output-format must be jsonl or parquet, not '" + o.outputFormat() + "'");
    }
    if (o.partitions() != null) {
      if (o.partitions() < 1) throw new UserInputException("--partitions must be >= 1");
      spark.conf().set("spark.sql.shuffle.partitions", String.valueOf(o.partitions()));
      // Keep exactly the partitions asked for (the equality tests run with 1 and several).
      spark.conf().set("spark.sql.adaptive.coalescePartitions.enabled", "false");
    }
    Map<String, Long> timings = new LinkedHashMap<>();
    long t0 = System.nanoTime();
    Dataset<Row> trainBoxes = read(spark, o.train(), o.inputFormat());
    Dataset<Row> evalBoxes = o.eval().isEmpty() ? null : read(spark, o.eval(), o.inputFormat());

    List<CocoDataset> catSets = new ArrayList<>();
    catSets.add(categories(trainBoxes, String.join(", ", o.train())));
    if (evalBoxes != null) catSets.add(categories(evalBoxes, String.join(", ", o.eval())));
    CategoryTable cats = CategoryTable.merge(catSets);
    GenerateOptions gen = o.generate();
    boolean[] unseen = Sr4gGenerator.unseenCategories(cats, gen, o.unseenOrigin());
    JobConfig cfg = new JobConfig(gen, o.minScore(), cats.ids(), cats.names(), unseen, o.imagesPerBatch());
    timings.put("categories_ms", ms(t0));

    // A local --out is staged and renamed into place; a distributed one (hdfs://, s3a://, ...) gets the rows written
    // straight to <out>/train and the small files copied after them (no atomic commit there).
    boolean remote = !isLocal(o.out());
    Path localTarget;
    try {
      localTarget = remote ? Files.createTempDirectory("sr4g-spark-small-files").resolve("out") : localPath(o.out());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (remote) prepareRemote(spark, o.out(), o.force());
    try (OutputDir out = OutputDir.prepare("spark-generate", localTarget, o.force(), java.util.List.of())) {
      long t1 = System.nanoTime();
      Dataset<Row> trainImages = group(trainBoxes).persist(StorageLevel.MEMORY_AND_DISK());
      try {
        Counters train = sumCounters(trainImages, new Passes.TrainCounts(cfg), cats.size(), false);
        timings.put("train_counts_ms", ms(t1));
        Counters eval = null;
        long t2 = System.nanoTime();
        if (evalBoxes != null) eval = sumCounters(group(evalBoxes), new Passes.EvalCounts(cfg), cats.size(), true);
        timings.put("eval_counts_ms", ms(t2));
        if (o.checkIds()) {
          train.problems[Problem.ANNOTATION_ID_IN_SEVERAL_IMAGES.ordinal()] = rowsWithIdsInSeveralImages(trainBoxes);
          if (eval != null) eval.problems[Problem.ANNOTATION_ID_IN_SEVERAL_IMAGES.ordinal()] = rowsWithIdsInSeveralImages(evalBoxes);
        }
        if (o.strict()) {
          strict("train", train);
          if (eval != null) strict("eval", eval);
        }

        long t3 = System.nanoTime();
        Dataset<Row> rows = trainImages.mapPartitions(new Passes.TrainRows(cfg), Encoders.row(Passes.ROW_SCHEMA));
        String rowsDir = remote ? o.out().replaceAll("/+$", "") + "/train" : out.file("train").toUri().toString();
        if (o.outputFormat().equals("noop")) {
          // Measurement only: every row is rendered, nothing is written.
          rows.write().format("noop").mode("overwrite").save();
        } else if (o.outputFormat().equals("jsonl")) {
          rows.write().partitionBy("split").text(rowsDir);
        } else {
          // Columns built from the same emitted rows (no JSON round trip).
          trainImages
              .mapPartitions(new Passes.TrainRows(cfg, true), Encoders.row(Passes.COLUMNS_SCHEMA))
              .write()
              .partitionBy("split")
              .parquet(rowsDir);
        }
        timings.put("write_rows_ms", ms(t3));

        long t4 = System.nanoTime();
        int[] prompts =
            Sr4gGenerator.writeSummaryFiles(
                out, cats, unseen, train.inputCounts(), eval == null ? null : eval.inputCounts(), train.pairs, eval == null ? null : eval.evalPass());
        List<String> unseenNames = Sr4gGenerator.unseenNames(cats, unseen);
        Map<String, Long> trainRejected = rejected(train), evalRejected = eval == null ? new LinkedHashMap<>() : rejected(eval);
        timings.put("summary_ms", ms(t4));
        timings.put("total_ms", ms(t0));
        writeManifest(spark, o, out, unseenNames, train, eval, prompts, trainRejected, evalRejected, timings);
        out.commit();
        if (remote) copyToRemote(spark, localTarget, o.out());
        return new Result(
            remote ? o.out() : out.target().toString(), train.images, train.boxesRead, train.pairs.eligiblePairs, train.pairs.rows, train.pairs.unseenRows,
            eval == null ? 0 : eval.images, prompts, trainRejected, evalRejected, unseenNames, timings);
      } finally {
        trainImages.unpersist();
      }
    }
  }

  static Path localPath(String p) {
    return p.startsWith("file:") ? Path.of(URI.create(p)) : Path.of(p);
  }

  private static void prepareRemote(SparkSession spark, String out, boolean force) {
    try {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(out);
      org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (fs.exists(p)) {
        if (!force) throw new UserInputException(out + ": exists (use --force to replace it)");
        fs.delete(p, true);
      }
    } catch (IOException e) {
      throw new UserInputException(out + ": " + e.getMessage(), e);
    }
  }

  private static void copyToRemote(SparkSession spark, Path localDir, String out) {
    try (Stream<Path> files = Files.list(localDir)) {
      org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(out);
      org.apache.hadoop.fs.FileSystem fs = target.getFileSystem(spark.sparkContext().hadoopConfiguration());
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        fs.copyFromLocalFile(true, true, new org.apache.hadoop.fs.Path(f.toUri()), new org.apache.hadoop.fs.Path(target, f.getFileName().toString()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the small files to " + out, e);
    }
  }

  private static long ms(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }

  /** Reads box tables: Parquet or JSONL (by --input-format, or by the first path's extension / the files inside). */
  static Dataset<Row> read(SparkSession spark, List<String> paths, String format) {
    for (String p : paths) {
      if (isLocal(p) && !Files.exists(localPath(p))) throw new UserInputException(p + ": no such file or directory");
    }
    String f = format == null || format.equals("auto") ? guessFormat(paths.get(0)) : format;
    Dataset<Row> raw;
    switch (f) {
      case "parquet":
        raw = spark.read().parquet(paths.toArray(new String[0]));
        break;
      case "jsonl":
      case "json":
        // An explicit schema: no inference pass over the data; absent optional fields read as null.
        raw = spark.read().schema(BoxColumns.SCHEMA).json(paths.toArray(new String[0]));
        break;
      default:
        throw new UserInputException("--input-format must be auto, parquet or jsonl, not '" + format + "'");
    }
    String name = String.join(", ", paths);
    return java.util.Arrays.asList(raw.columns()).contains(BoxColumns.BOXES)
        ? BoxColumns.normalizeNested(raw, name)
        : BoxColumns.normalize(raw, name);
  }

  static boolean isLocal(String p) {
    return !p.contains("://") || p.startsWith("file:");
  }

  private static String guessFormat(String p) {
    String lower = p.toLowerCase(java.util.Locale.ROOT);
    if (lower.endsWith(".parquet")) return "parquet";
    if (lower.endsWith(".jsonl") || lower.endsWith(".json") || lower.endsWith(".jsonl.gz") || lower.endsWith(".json.gz")) return "jsonl";
    if (isLocal(p) && Files.isDirectory(localPath(p))) {
      try (Stream<Path> s = Files.walk(localPath(p))) {
        List<String> names = s.map(x -> x.getFileName().toString()).toList();
        if (names.stream().anyMatch(n -> n.endsWith(".parquet"))) return "parquet";
        if (names.stream().anyMatch(n -> n.endsWith(".json") || n.endsWith(".jsonl") || n.endsWith(".json.gz"))) return "jsonl";
      } catch (IOException e) {
        throw new UserInputException(p + ": cannot list: " + e.getMessage(), e);
      }
    }
    throw new UserInputException(p + ": cannot tell the format, use --input-format parquet|jsonl");
  }

  /** One row per image: image_id and the array of its box rows (one shuffle). */
  static Dataset<Row> group(Dataset<Row> boxes) {
    if (java.util.Arrays.asList(boxes.columns()).contains(BoxColumns.BOXES)) return boxes; // already one row per image
    List<Column> fields = new ArrayList<>();
    for (StructField f : BoxColumns.boxStruct().fields()) fields.add(col(f.name()));
    return boxes.groupBy(col(BoxColumns.IMAGE_ID)).agg(collect_list(struct(fields.toArray(new Column[0]))).as(BoxColumns.BOXES));
  }

  /** The categories named by an input (distinct (id, name) pairs, a small aggregation), as a category-only dataset. */
  static CocoDataset categories(Dataset<Row> boxes, String inputName) {
    if (java.util.Arrays.asList(boxes.columns()).contains(BoxColumns.BOXES)) {
      boxes = boxes.select(org.apache.spark.sql.functions.explode(col(BoxColumns.BOXES)).as("b")).select("b.category_id", "b.category");
    }
    List<Row> pairs =
        boxes.filter(col("category_id").isNotNull().and(col("category").isNotNull()))
            .select("category_id", "category")
            .distinct()
            .collectAsList();
    TreeMap<Long, String> byId = new TreeMap<>();
    for (Row r : pairs) {
      long id = r.getLong(0);
      String name = r.getString(1);
      if (id < Integer.MIN_VALUE || id > Integer.MAX_VALUE) throw new UserInputException(inputName + ": category_id " + id + " out of range");
      String prev = byId.putIfAbsent(id, name);
      if (prev != null && !prev.equals(name)) {
        String a = prev.compareTo(name) < 0 ? prev : name, b = prev.compareTo(name) < 0 ? name : prev;
        throw new UserInputException(inputName + ": category id " + id + " is named both \"" + a + "\" and \"" + b + "\"");
      }
    }
    int[] ids = byId.keySet().stream().mapToInt(Long::intValue).toArray();
    return new CocoDatasetBuilder(ids, byId.values().toArray(new String[0])).build();
  }

  /** Rows whose annotation id appears in more than one image (a shuffle of (annotation id, image id) pairs). */
  static long rowsWithIdsInSeveralImages(Dataset<Row> boxes) {
    Dataset<Row> ids =
        java.util.Arrays.asList(boxes.columns()).contains(BoxColumns.BOXES)
            ? boxes.select(col(BoxColumns.IMAGE_ID), org.apache.spark.sql.functions.explode(col(BoxColumns.BOXES + ".annotation_id")).as("annotation_id"))
            : boxes.select(BoxColumns.IMAGE_ID, "annotation_id");
    Row r =
        ids.filter(col("annotation_id").isNotNull().and(col(BoxColumns.IMAGE_ID).isNotNull()))
            .groupBy("annotation_id")
            .agg(org.apache.spark.sql.functions.countDistinct(col(BoxColumns.IMAGE_ID)).as("images"), org.apache.spark.sql.functions.count(org.apache.spark.sql.functions.lit(1)).as("rows"))
            .filter(col("images").gt(1))
            .agg(sum("rows"))
            .first();
    return r.isNullAt(0) ? 0 : r.getLong(0);
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

  private static void writeManifest(
      SparkSession spark, Options o, OutputDir out, List<String> unseenNames, Counters train, Counters eval, int[] prompts,
      Map<String, Long> trainRejected, Map<String, Long> evalRejected, Map<String, Long> timings) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tool", "sr4g");
    m.put("version", Sr4gVersion.get());
    m.put("command", "spark-generate");
    m.put("taxonomy", Sr4gGenerator.TAXONOMY);
    Map<String, Object> options = Sr4gGenerator.manifestOptions(o.generate());
    options.put("min_score", o.minScore());
    options.put("strict", o.strict());
    options.put("check_ids", o.checkIds());
    options.put("output_format", o.outputFormat());
    m.put("options", options);
    List<Object> inputs = new ArrayList<>();
    for (String p : o.train()) inputs.add(input("train", p));
    for (String p : o.eval()) inputs.add(input("eval", p));
    m.put("inputs", inputs);
    m.put("seed", o.generate().seed());
    m.put("unseen_categories", unseenNames);
    Map<String, Object> counts = new LinkedHashMap<>();
    counts.put("train_images", train.images);
    counts.put("train_boxes", train.boxesRead);
    counts.put("eligible_pairs", train.pairs.eligiblePairs);
    counts.put("train_rows", train.pairs.rows);
    counts.put("train_unseen_rows", train.pairs.unseenRows);
    counts.put("prompts_val", prompts[0]);
    counts.put("prompts_test", prompts[1]);
    counts.put("prompts_test_unseen", prompts[2]);
    m.put("counts", counts);
    Map<String, Object> rejected = new LinkedHashMap<>();
    rejected.put("train", trainRejected);
    rejected.put("eval", evalRejected);
    m.put("rejected_rows", rejected);
    Map<String, Object> layout = new LinkedHashMap<>();
    layout.put("train.jsonl", "train/ (all split=* partitions)");
    layout.put("train_unseen.jsonl", "train/split=seen/");
    m.put("layout", layout);
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("spark", spark.version());
    run.put("master", spark.sparkContext().master());
    run.put("shuffle_partitions", spark.conf().get("spark.sql.shuffle.partitions"));
    run.put("driver_kernel", RelationKernel.best().name());
    run.put("java", Runtime.version().toString());
    run.put("timings", timings);
    m.put("run", run);
    Sr4gGenerator.writeJson(out.file("manifest.json"), m);
  }

  private static Map<String, Object> input(String role, String p) {
    Map<String, Object> in = new LinkedHashMap<>();
    in.put("role", role);
    in.put("name", p);
    Long bytes = null;
    if (isLocal(p)) {
      Path path = localPath(p);
      try (Stream<Path> s = Files.walk(path)) {
        bytes = s.filter(Files::isRegularFile).mapToLong(x -> {
          try {
            return Files.size(x);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }).sum();
      } catch (IOException | UncheckedIOException e) {
        bytes = null;
      }
    }
    in.put("bytes", bytes);
    return in;
  }
}

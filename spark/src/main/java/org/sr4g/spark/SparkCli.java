package org.sr4g.spark;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.sr4g.UserInputException;
import org.sr4g.coco.CocoSource;
import org.sr4g.coco.DropReason;
import org.sr4g.dataset.GenerateOptions;
import org.sr4g.dataset.GenerateArgs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The Spark commands of sr4g ({@code sr4g spark-generate}, {@code sr4g export-boxes}). The {@code sr4g} launcher
 * runs them with Spark on the classpath; {@code spark-submit} runs this class from the job jar.
 */
@Command(
    name = "sr4g",
    mixinStandardHelpOptions = true,
    description = "sr4g on Apache Spark.",
    subcommands = {SparkCli.Generate.class, SparkCli.Export.class, SparkCli.Synth.class, CommandLine.HelpCommand.class})
public final class SparkCli implements Runnable {
  @Spec CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  public static int run(String... args) {
    CommandLine cl = new CommandLine(new SparkCli()).setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler(
        (ex, c, parsed) -> {
          Throwable t = ex;
          while (t != null && !(t instanceof UserInputException)) t = t.getCause();
          if (t != null) {
            c.getErr().println("sr4g " + c.getCommandName() + ": error: " + t.getMessage());
            return 2;
          }
          c.getErr().println("sr4g " + c.getCommandName() + ": internal error (please report): " + ex);
          ex.printStackTrace(c.getErr());
          return 70;
        });
    return cl.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  /** A session for the master given, or spark-submit's, or local[*]; quiet logs for local runs. */
  static SparkSession session(String master, String app) {
    SparkSession.Builder b = SparkSession.builder().appName(app);
    boolean local;
    if (master != null) {
      b.master(master);
      local = master.startsWith("local");
    } else if (System.getProperty("spark.master") == null) {
      b.master("local[*]");
      local = true;
    } else {
      local = System.getProperty("spark.master").startsWith("local");
    }
    if (local) b.config("spark.ui.enabled", "false");
    SparkSession s = b.getOrCreate();
    if (local) s.sparkContext().setLogLevel("WARN");
    return s;
  }

  @Command(
      name = "spark-generate",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      showDefaultValues = true,
      description = {
        "Regenerate SR4G from box tables (Parquet or JSONL, one row per box) on Spark: the same relation engine and row "
            + "writer as `sr4g generate`, the same rows. See docs/scale-out.md."
      },
      footer = {
        "",
        "Examples:",
        "  sr4g export-boxes --coco instances_train2017.json --out train.jsonl",
        "  sr4g spark-generate --master local[2] --train train.jsonl --out sr4g-spark/",
        "  spark-submit --class org.sr4g.spark.SparkCli sr4g-spark-job.jar spark-generate --train s3a://b/boxes/ --out ..."
      })
  static final class Generate implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--train", paramLabel = "PATH", required = true, showDefaultValue = CommandLine.Help.Visibility.NEVER, description = "Box table (file or directory; repeatable).")
    List<String> train = new ArrayList<>();

    @Option(names = "--eval", paramLabel = "PATH", showDefaultValue = CommandLine.Help.Visibility.NEVER,
        description = "Box table for evaluation prompts (repeatable; default: none, so no prompts).")
    List<String> eval = new ArrayList<>();

    @Option(names = "--input-format", paramLabel = "auto|parquet|jsonl", defaultValue = "auto",
        description = "How the box tables are stored; auto decides by extension or by the files in a folder.")
    InputFormat inputFormat;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output directory: local, or a Hadoop URI (hdfs://, s3a://, ...).")
    String out;

    @Option(names = "--force", description = "Replace a previous output in --out (off by default).")
    boolean force;

    @Option(names = "--output-format", paramLabel = "jsonl|parquet", defaultValue = "jsonl",
        description = "Rows as JSONL text (lines identical to generate's) or Parquet columns.")
    OutputFormat outputFormat;

    /** The options shared with sr4g generate (--emit, --relations, --seed, --unseen-*, ...). */
    @Mixin GenerateArgs generation;

    @Option(names = "--min-score", paramLabel = "S", description = "Drop (and count) boxes whose score is below S (detector outputs; default: keep all).")
    Double minScore;

    @Option(names = "--strict", description = "Fail on any rejected row (missing fields, conflicting images, duplicate ids) instead of counting it (off by default).")
    boolean strict;

    @Option(names = "--check-ids", description = "Also count rows whose annotation id is used by another image (one more shuffle, by annotation id; off by default).")
    boolean checkIds;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master, e.g. local[2] (default: spark-submit's, else local[*]).")
    String master;

    @Option(names = "--partitions", paramLabel = "N", description = "Shuffle partitions (images are grouped into N partitions; default: spark.sql.shuffle.partitions).")
    Integer partitions;

    @Option(names = "--images-per-batch", paramLabel = "N", defaultValue = "512", hidden = true)
    int imagesPerBatch;

    @Option(names = "--metrics", description = "Print Spark task metrics at the end (shuffle bytes, peak memory, CPU time; off by default).")
    boolean metrics;

    @Override
    public Integer call() {
      GenerateOptions opt = options();
      SparkSession spark = session(master, "sr4g spark-generate");
      MetricsListener listener = new MetricsListener();
      if (metrics) spark.sparkContext().addSparkListener(listener);
      Sr4gSparkJob.Result r =
          Sr4gSparkJob.run(
              spark,
              new Sr4gSparkJob.Options(
                  train, eval, inputFormat, out, force, outputFormat, opt, generation.unseenOrigin(), minScore, strict,
                  checkIds, partitions, imagesPerBatch));
      PrintWriter w = spec.commandLine().getOut();
      String fmt = "  %-28s %,15d%n";
      w.printf("sr4g spark-generate (%s)%n", spark.sparkContext().master());
      w.printf(fmt, "train images", r.trainImages());
      w.printf(fmt, "train boxes", r.trainBoxesRead());
      w.printf(fmt, "eligible ordered pairs", r.eligiblePairs());
      w.printf(fmt, "train rows", r.rows());
      w.printf(fmt, "train_unseen rows", r.trainUnseenRows());
      w.printf(fmt, "eval images", r.evalImages());
      w.printf("  %-28s %,15d / %,d / %,d%n", "prompts val/test/unseen", r.prompts().val(), r.prompts().test(), r.prompts().testUnseen());
      printRejected(w, "rejected train rows", r.trainRejected());
      printRejected(w, "rejected eval rows", r.evalRejected());
      w.printf("  %-28s %s%n", "unseen categories", String.join(", ", r.unseenCategories()));
      w.printf("  %-28s %s%n", "timings (ms)", r.timingsMs());
      w.printf("  %-28s %s%n", "output", r.out());
      if (metrics) {
        Runtime rt = Runtime.getRuntime();
        String hwm = "?";
        try {
          for (String line : Files.readAllLines(Path.of("/proc/self/status"))) if (line.startsWith("VmHWM:")) hwm = line.substring(6).strip();
        } catch (IOException | RuntimeException e) {
          // not Linux: no figure
        }
        w.printf("  %-28s %s%n", "spark metrics", listener);
        w.printf("  %-28s %s (peak RSS of this JVM: driver and, in local mode, executors; -Xmx %,d MB)%n", "peak memory", hwm, rt.maxMemory() >> 20);
      }
      w.flush();
      return 0;
    }

    private static void printRejected(PrintWriter w, String what, Map<String, Long> m) {
      long total = m.values().stream().mapToLong(Long::longValue).sum();
      if (total > 0) w.printf("  %-28s %,15d %s%n", what, total, m);
    }

    private GenerateOptions options() {
      return generation.options(1, false);
    }
  }

  @Command(
      name = "export-boxes",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description = "Convert COCO instances files to a box table for spark-generate (streams the COCO file).")
  static final class Export implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--coco", paramLabel = "FILE", required = true, showDefaultValue = CommandLine.Help.Visibility.NEVER, description = "COCO instances file (repeatable: one table).")
    List<Path> coco = new ArrayList<>();

    @Option(names = "--format", paramLabel = "jsonl|parquet", defaultValue = "jsonl", description = "JSONL file or Parquet folder.")
    TableFormat format;

    @Option(names = "--out", paramLabel = "PATH", required = true, description = "JSONL file, or Parquet directory.")
    Path out;

    @Option(names = "--lenient", description = "As in sr4g generate (off by default).")
    boolean lenient;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master for --format parquet (default local[*]).")
    String master;

    @Override
    public Integer call() throws IOException {
      List<CocoSource> sources = new ArrayList<>();
      for (Path p : coco) sources.add(CocoSource.of(p));
      ExportBoxes.Result r;
      if (format == TableFormat.JSONL) {
        r = ExportBoxes.toJsonlFile(sources, lenient, out);
      } else {
        if (Files.exists(out)) throw new UserInputException(out + ": exists");
        Path tmp = Files.createTempFile("sr4g-boxes", ".jsonl");
        try {
          r = ExportBoxes.toJsonlFile(sources, lenient, tmp);
          SparkSession spark = session(master, "sr4g export-boxes");
          spark.read().schema(BoxColumns.SCHEMA).json(tmp.toString()).write().parquet(out.toAbsolutePath().toString());
        } finally {
          Files.deleteIfExists(tmp);
        }
      }
      PrintWriter w = spec.commandLine().getOut();
      w.printf("sr4g export-boxes: %,d images, %,d boxes, %,d categories -> %s%n", r.images(), r.boxes(), r.categories(), out);
      long dropped = r.droppedWhileReading().values().stream().mapToLong(Long::longValue).sum();
      if (dropped > 0) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<DropReason, Long> e : r.droppedWhileReading().entrySet()) sb.append(' ').append(e.getKey().key()).append('=').append(e.getValue());
        w.printf("  not in the table (dropped while reading, as generate does):%s%n", sb);
      }
      w.flush();
      return 0;
    }
  }

  @Command(
      name = "synth-boxes",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description = "Write a synthetic box table (COCO-like statistics, ~7.3 boxes an image) with Spark, for scale tests.")
  static final class Synth implements Callable<Integer> {
    @Spec CommandSpec spec;

    /** {@code --layout}: one row per box, or one row per image with its boxes as an array. */
    enum Layout {
      FLAT,
      NESTED;

      @Override
      public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
      }
    }

    @Option(names = "--images", required = true, description = "Number of images.")
    long images;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the table.")
    long seed;

    @Option(names = "--partitions", defaultValue = "16", description = "Spark partitions (output files).")
    int partitions;

    @Option(names = "--format", paramLabel = "parquet|jsonl", defaultValue = "parquet", description = "Table format.")
    TableFormat format;

    @Option(names = "--layout", paramLabel = "flat|nested", defaultValue = "flat",
        description = "flat: one row per box; nested: one row per image with its boxes as an array.")
    Layout layout;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (must not exist).")
    Path out;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else local[*]).")
    String master;

    @Override
    public Integer call() {
      if (Files.exists(out)) throw new UserInputException(out + ": exists");
      SparkSession spark = session(master, "sr4g synth-boxes");
      long t0 = System.nanoTime();
      org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> t = SynthBoxes.table(spark, images, seed, partitions);
      if (layout == Layout.NESTED) {
        t = t.groupBy("image_id", "file_name", "width", "height")
            .agg(org.apache.spark.sql.functions.collect_list(
                    org.apache.spark.sql.functions.struct("annotation_id", "category", "category_id", "x", "y", "w", "h", "iscrowd"))
                .as("boxes"));
      }
      org.apache.spark.sql.DataFrameWriter<org.apache.spark.sql.Row> wr = t.write();
      if (format == TableFormat.PARQUET) wr.parquet(out.toAbsolutePath().toString());
      else wr.json(out.toAbsolutePath().toString());
      long rows = spark.read().format(format == TableFormat.PARQUET ? "parquet" : "json").load(out.toAbsolutePath().toString()).count();
      spec.commandLine().getOut().printf("sr4g synth-boxes: %,d images, %,d rows -> %s (%.1f s)%n", images, rows, out, (System.nanoTime() - t0) / 1e9);
      return 0;
    }
  }

  static void uncheckedDelete(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

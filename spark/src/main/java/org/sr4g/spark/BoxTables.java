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
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructField;
import org.sr4g.UserInputException;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.CocoDatasetBuilder;

/**
 * Box tables in: reading Parquet or JSONL (the format given, or told by extension or by the files inside a folder),
 * normalising to {@link BoxColumns}, grouping boxes by image, and the small scans the driver needs (categories,
 * annotation ids used by several images, input sizes for the manifest).
 */
final class BoxTables {
  private BoxTables() {}

  /** Reads box tables in {@code format} (or the format {@link InputFormat#AUTO} finds). */
  static Dataset<Row> read(SparkSession spark, List<String> paths, InputFormat format) {
    for (String p : paths) {
      if (isLocal(p) && !Files.exists(localPath(p))) throw new UserInputException(p + ": no such file or directory");
    }
    InputFormat f = format == InputFormat.AUTO ? sniff(paths.get(0)) : format;
    Dataset<Row> raw =
        f == InputFormat.PARQUET
            ? spark.read().parquet(paths.toArray(new String[0]))
            // An explicit schema: no inference pass over the data; absent optional fields read as null.
            : spark.read().schema(BoxColumns.SCHEMA).json(paths.toArray(new String[0]));
    String name = String.join(", ", paths);
    return nested(raw) ? BoxColumns.normalizeNested(raw, name) : BoxColumns.normalize(raw, name);
  }

  /** One row per image already (a {@code boxes} array column), or one row per box. */
  static boolean nested(Dataset<Row> table) {
    return Arrays.asList(table.columns()).contains(BoxColumns.BOXES);
  }

  static boolean isLocal(String p) {
    return !p.contains("://") || p.startsWith("file:");
  }

  static Path localPath(String p) {
    return p.startsWith("file:") ? Path.of(URI.create(p)) : Path.of(p);
  }

  private static InputFormat sniff(String p) {
    String lower = p.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".parquet")) return InputFormat.PARQUET;
    if (lower.endsWith(".jsonl") || lower.endsWith(".json") || lower.endsWith(".jsonl.gz") || lower.endsWith(".json.gz")) {
      return InputFormat.JSONL;
    }
    if (isLocal(p) && Files.isDirectory(localPath(p))) {
      try (Stream<Path> s = Files.walk(localPath(p))) {
        List<String> names = s.map(x -> x.getFileName().toString()).toList();
        if (names.stream().anyMatch(n -> n.endsWith(".parquet"))) return InputFormat.PARQUET;
        if (names.stream().anyMatch(n -> n.endsWith(".json") || n.endsWith(".jsonl") || n.endsWith(".json.gz"))) {
          return InputFormat.JSONL;
        }
      } catch (IOException e) {
        throw new UserInputException(p + ": cannot list: " + e.getMessage(), e);
      }
    }
    throw new UserInputException(p + ": cannot tell the format, use --input-format parquet|jsonl");
  }

  /** One row per image: image_id and the array of its box rows (one shuffle; none for a nested table). */
  static Dataset<Row> group(Dataset<Row> boxes) {
    if (nested(boxes)) return boxes;
    List<Column> fields = new ArrayList<>();
    for (StructField f : BoxColumns.boxStruct().fields()) fields.add(col(f.name()));
    return boxes.groupBy(col(BoxColumns.IMAGE_ID)).agg(collect_list(struct(fields.toArray(new Column[0]))).as(BoxColumns.BOXES));
  }

  /** The categories named by an input (distinct (id, name) pairs, a small aggregation), as a category-only dataset. */
  static CocoDataset categories(Dataset<Row> boxes, String inputName) {
    if (nested(boxes)) {
      boxes = boxes.select(functions.explode(col(BoxColumns.BOXES)).as("b")).select("b.category_id", "b.category");
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
        nested(boxes)
            ? boxes.select(col(BoxColumns.IMAGE_ID), functions.explode(col(BoxColumns.BOXES + ".annotation_id")).as("annotation_id"))
            : boxes.select(BoxColumns.IMAGE_ID, "annotation_id");
    Row r =
        ids.filter(col("annotation_id").isNotNull().and(col(BoxColumns.IMAGE_ID).isNotNull()))
            .groupBy("annotation_id")
            .agg(functions.countDistinct(col(BoxColumns.IMAGE_ID)).as("images"), functions.count(functions.lit(1)).as("rows"))
            .filter(col("images").gt(1))
            .agg(sum("rows"))
            .first();
    return r.isNullAt(0) ? 0 : r.getLong(0);
  }

  /** Bytes of a local input (a file, or the files below a folder); null for remote or unreadable ones. */
  static Long bytes(String p) {
    if (!isLocal(p)) return null;
    try (Stream<Path> s = Files.walk(localPath(p))) {
      return s.filter(Files::isRegularFile).mapToLong(x -> {
        try {
          return Files.size(x);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).sum();
    } catch (IOException | UncheckedIOException e) {
      return null;
    }
  }
}

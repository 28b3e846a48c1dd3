package org.sr4g.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.coco.CocoSource;
import org.sr4g.dataset.GenerateOptions;
import org.sr4g.relations.Relation;
import org.sr4g.synth.CocoSynth;
import org.sr4g.testing.SharedData;

/**
 * spark-generate gives the rows of sr4g generate: on the real COCO subset and on a synthetic file, in both --emit
 * modes, with 1 and several partitions, from JSONL and from Parquet box tables (shuffled row order).
 */
class SparkEqualityTest {
  @TempDir static Path tmp;
  static Path synth;
  static Path synthTable;

  @BeforeAll
  static void data() throws IOException {
    synth = tmp.resolve("synth.json");
    CocoSynth.builder().images(300).seed(11).build().writeTo(synth);
    synthTable = tmp.resolve("synth-boxes.jsonl");
    ExportBoxes.toJsonlFile(List.of(CocoSource.of(synth)), false, synthTable);
  }

  private static GenerateOptions opt(boolean all) {
    return GenerateOptions.defaults().withEmitAll(all).withThreads(2).withSeed(5);
  }

  @Test
  void tinyCocoEmitOneOnePartition() throws IOException {
    Path a = SharedData.require("coco/tiny/annotations/instances_train2017.json");
    Path b = SharedData.require("coco/tiny/annotations/instances_val2017.json");
    Path ta = tmp.resolve("tiny-train.jsonl"), tb = tmp.resolve("tiny-val.jsonl");
    ExportBoxes.toJsonlFile(List.of(CocoSource.of(a)), false, ta);
    ExportBoxes.toJsonlFile(List.of(CocoSource.of(b)), false, tb);
    TestSpark.generate(opt(false), List.of(a), List.of(b), tmp.resolve("tiny-one"));
    Sr4gSparkJob.Result r =
        TestSpark.sparkGenerate(opt(false), List.of(ta), List.of(tb), tmp.resolve("tiny-one-spark"), "jsonl", 1, null, true);
    TestSpark.assertSameOutput(tmp.resolve("tiny-one"), tmp.resolve("tiny-one-spark"));
    assertEquals(80, r.trainImages());
  }

  @Test
  void tinyCocoEmitAllSeveralPartitions() throws IOException {
    Path a = SharedData.require("coco/tiny/annotations/instances_train2017.json");
    Path b = SharedData.require("coco/tiny/annotations/instances_val2017.json");
    Path ta = tmp.resolve("tiny-train-all.jsonl"), tb = tmp.resolve("tiny-val-all.jsonl");
    ExportBoxes.toJsonlFile(List.of(CocoSource.of(a)), false, ta);
    ExportBoxes.toJsonlFile(List.of(CocoSource.of(b)), false, tb);
    GenerateOptions o = opt(true).withRelationMask(Relation.parseSelection("visor")).withMinArea(0.001f);
    TestSpark.generate(o, List.of(a), List.of(b), tmp.resolve("tiny-all"));
    TestSpark.sparkGenerate(o, List.of(ta), List.of(tb), tmp.resolve("tiny-all-spark"), "jsonl", 3, null, true);
    TestSpark.assertSameOutput(tmp.resolve("tiny-all"), tmp.resolve("tiny-all-spark"));
  }

  @Test
  void synthEmitOneFromShuffledParquetSeveralPartitions() throws IOException {
    // Rows in random order, in Parquet: the per-image result must not depend on box order or file layout.
    List<String> lines = new ArrayList<>(Files.readAllLines(synthTable));
    Collections.shuffle(lines, new Random(3));
    Path shuffled = tmp.resolve("synth-shuffled.jsonl");
    Files.write(shuffled, lines);
    Path parquet = tmp.resolve("synth-boxes.parquet");
    Dataset<Row> t = TestSpark.session().read().schema(BoxColumns.SCHEMA).json(shuffled.toString());
    t.repartition(3).write().parquet(parquet.toString());
    TestSpark.generate(opt(false), List.of(synth), List.of(), tmp.resolve("synth-one"));
    TestSpark.sparkGenerate(opt(false), List.of(parquet), List.of(), tmp.resolve("synth-one-spark"), "jsonl", 4, null, true);
    TestSpark.assertSameOutput(tmp.resolve("synth-one"), tmp.resolve("synth-one-spark"));
  }

  @Test
  void nestedTableOneRowPerImageNeedsNoShuffle() throws IOException {
    // One row per image, boxes as an array, file_name/width/height at the top level: read as is, no groupBy.
    Dataset<Row> flat = TestSpark.session().read().schema(BoxColumns.SCHEMA).json(synthTable.toString());
    Path nested = tmp.resolve("synth-nested.parquet");
    flat.groupBy("image_id", "file_name", "width", "height")
        .agg(
            org.apache.spark.sql.functions.collect_list(
                    org.apache.spark.sql.functions.struct("annotation_id", "category", "category_id", "x", "y", "w", "h", "iscrowd", "bbox_json"))
                .as("boxes"))
        .write()
        .parquet(nested.toString());
    GenerateOptions o = opt(false).withSeed(9);
    TestSpark.generate(o, List.of(synth), List.of(), tmp.resolve("synth-n"));
    TestSpark.sparkGenerate(o, List.of(nested), List.of(), tmp.resolve("synth-n-spark"), "jsonl", 2, null, true);
    TestSpark.assertSameOutput(tmp.resolve("synth-n"), tmp.resolve("synth-n-spark"));
    String plan = BoxTables.group(BoxTables.read(TestSpark.session(), List.of(nested.toString()), InputFormat.AUTO)).queryExecution().executedPlan().toString();
    assertTrue(!plan.contains("Exchange"), plan);
  }

  @Test
  void synthEmitAllOnePartitionWithEvalAndParquetOutput() throws IOException {
    GenerateOptions o = opt(true).withMaxObjects(12).withSameCategory(true);
    TestSpark.generate(o, List.of(synth), List.of(synth), tmp.resolve("synth-all"));
    TestSpark.sparkGenerate(o, List.of(synthTable), List.of(synthTable), tmp.resolve("synth-all-spark"), "jsonl", 1, null, true);
    TestSpark.assertSameOutput(tmp.resolve("synth-all"), tmp.resolve("synth-all-spark"));

    // Parquet output: the same rows as columns, nested subject/object structs; equal to the JSONL rows parsed with
    // the same schema (numbers as doubles).
    Path pq = tmp.resolve("synth-all-parquet");
    TestSpark.sparkGenerate(o, List.of(synthTable), List.of(), pq, "parquet", 2, null, true);
    Dataset<Row> columns = TestSpark.session().read().parquet(pq.resolve("train").toString());
    Dataset<Row> parsed =
        TestSpark.session().read().schema(Sr4gSparkJob.TRAIN_ROW_SCHEMA.add("split", "string")).json(tmp.resolve("synth-all-spark/train").toString());
    String[] cols = parsed.columns();
    columns = columns.selectExpr(cols);
    parsed = parsed.selectExpr(cols);
    long expected = Files.lines(tmp.resolve("synth-all/train.jsonl")).count();
    assertEquals(expected, columns.count());
    assertEquals(0, columns.exceptAll(parsed).count(), "parquet rows not in the JSONL rows");
    assertEquals(0, parsed.exceptAll(columns).count(), "JSONL rows not in the parquet rows");
    assertEquals(Files.lines(tmp.resolve("synth-all/train_unseen.jsonl")).count(), columns.filter("split = 'seen'").count());
    Row one = columns.filter("image_id is not null").limit(1).collectAsList().get(0);
    assertTrue(one.<Row>getAs("subject").<Object>getAs("bbox") != null);
  }
}

package org.sr4g.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.sr4g.UserInputException;
import org.sr4g.dataset.OutputDir;

/**
 * Where spark-generate writes. A local {@code --out} is staged in a hidden sibling and renamed into place when
 * everything succeeded ({@link OutputDir}, as for {@code generate}); a Hadoop URI ({@code hdfs://}, {@code s3a://},
 * ...) gets the rows written straight to {@code <out>/train} and the small files copied after them (object stores have
 * no atomic rename; Spark's {@code _SUCCESS} marker tells a complete row set).
 */
final class SparkOutput implements AutoCloseable {
  private final SparkSession spark;
  private final String out;
  private final boolean remote;
  private final OutputDir local;

  private SparkOutput(SparkSession spark, String out, boolean remote, OutputDir local) {
    this.spark = spark;
    this.out = out;
    this.remote = remote;
    this.local = local;
  }

  static SparkOutput prepare(SparkSession spark, String out, boolean force) {
    boolean remote = !BoxTables.isLocal(out);
    Path localTarget;
    try {
      localTarget = remote ? Files.createTempDirectory("sr4g-spark-small-files").resolve("out") : BoxTables.localPath(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (remote) prepareRemote(spark, out, force);
    return new SparkOutput(spark, out, remote, OutputDir.prepare("spark-generate", localTarget, force, List.of()));
  }

  /** The small files (prompts, stats, manifest) go here first. */
  OutputDir smallFiles() {
    return local;
  }

  /** Where Spark writes the rows. */
  String rowsDir() {
    return remote ? out.replaceAll("/+$", "") + "/train" : local.file("train").toUri().toString();
  }

  /** What the user named, for messages. */
  String target() {
    return remote ? out : local.target().toString();
  }

  void commit() {
    local.commit();
    if (remote) copyToRemote(local.target());
  }

  @Override
  public void close() {
    local.close();
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

  private void copyToRemote(Path localDir) {
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
}

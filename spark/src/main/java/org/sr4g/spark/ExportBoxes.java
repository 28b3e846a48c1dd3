package org.sr4g.spark;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.CocoReader;
import org.sr4g.coco.CocoSource;
import org.sr4g.coco.DropReason;
import org.sr4g.io.AtomicFiles;
import org.sr4g.io.OutputRules;

/**
 * {@code sr4g export-boxes}: a COCO instances file as a box table (JSONL, or Parquet through Spark). The COCO file is
 * parsed by the streaming reader {@code sr4g generate} uses; the table has one row per box plus one row per image
 * without boxes and one per category, so that {@code spark-generate} on it gives what {@code generate} gives on the
 * COCO file. Boxes the reader drops (non-finite, non-positive size) are not in the table: they are reported here.
 */
public final class ExportBoxes {
  private ExportBoxes() {}

  /** Summary for the CLI. */
  public record Result(long images, long boxes, long categories, Map<DropReason, Long> droppedWhileReading) {}

  /** Writes the table as JSONL (one object a line, {@link BoxColumns#SCHEMA}'s fields in order). */
  public static Result writeJsonl(List<CocoSource> sources, boolean lenient, OutputStream os) throws IOException {
    CocoDataset d = new CocoReader(lenient).read(sources);
    long boxes = 0;
    try (JsonGenerator g = new JsonFactory().createGenerator(os, JsonEncoding.UTF8)) {
      g.setRootValueSeparator(null);
      for (int c = 0; c < d.categoryCount(); c++) {
        g.writeStartObject();
        g.writeNullField("image_id");
        g.writeStringField("category", d.categoryName(c));
        g.writeNumberField("category_id", d.categoryId(c));
        g.writeEndObject();
        g.writeRaw('\n');
      }
      for (int i = 0; i < d.imageCount(); i++) {
        if (d.firstBox(i) == d.endBox(i)) {
          imageHead(g, d, i);
          g.writeEndObject();
          g.writeRaw('\n');
        }
        for (int b = d.firstBox(i); b < d.endBox(i); b++) {
          imageHead(g, d, i);
          g.writeNumberField("annotation_id", d.annotationId(b));
          int c = d.boxCategory(b);
          g.writeStringField("category", d.categoryName(c));
          g.writeNumberField("category_id", d.categoryId(c));
          // Float.toString round-trips: the job's (float) of the parsed double is the reader's float again.
          g.writeFieldName("x");
          g.writeNumber(Float.toString(d.x(b)));
          g.writeFieldName("y");
          g.writeNumber(Float.toString(d.y(b)));
          g.writeFieldName("w");
          g.writeNumber(Float.toString(d.w(b)));
          g.writeFieldName("h");
          g.writeNumber(Float.toString(d.h(b)));
          g.writeNumberField("iscrowd", d.crowd(b) ? 1 : 0);
          g.writeStringField("bbox_json", d.bboxJson(b));
          g.writeEndObject();
          g.writeRaw('\n');
          boxes++;
        }
      }
    }
    return new Result(d.imageCount(), boxes, d.categoryCount(), d.dropped());
  }

  private static void imageHead(JsonGenerator g, CocoDataset d, int i) throws IOException {
    g.writeStartObject();
    g.writeNumberField("image_id", d.imageId(i));
    g.writeStringField("file_name", d.fileName(i));
    g.writeFieldName("width");
    g.writeNumber(d.widthText(i));
    g.writeFieldName("height");
    g.writeNumber(d.heightText(i));
  }

  /** JSONL into a file, through a sibling and a rename ({@link AtomicFiles}); a FIFO or link at --out is refused. */
  public static Result toJsonlFile(List<CocoSource> sources, boolean lenient, Path out) {
    try {
      Path abs = out.toAbsolutePath().normalize();
      if (abs.getParent() != null) Files.createDirectories(abs.getParent());
      OutputRules.checkFile(abs);
      Result[] r = new Result[1];
      AtomicFiles.write(abs, os -> r[0] = writeJsonl(sources, lenient, os));
      return r[0];
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

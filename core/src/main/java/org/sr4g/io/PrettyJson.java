package org.sr4g.io;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Map;

/**
 * The layout of sr4g's small JSON files (stats.json, manifest.json): two-space indented objects, arrays on one line,
 * a final newline. Values are maps (in their iteration order), collections, strings, numbers, booleans and nulls,
 * written with Jackson's streaming generator (no data binding, so nothing to introspect at start-up).
 */
public final class PrettyJson {
  private static final JsonFactory JSON = JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();
  private static final DefaultPrettyPrinter LAYOUT =
      new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"));

  private PrettyJson() {}

  /** Writes {@code value} to a new file (it must not exist). */
  public static void write(Path file, Object value) {
    try (OutputStream os = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW)) {
      write(os, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static void write(OutputStream os, Object value) throws IOException {
    try (JsonGenerator g = JSON.createGenerator(os, JsonEncoding.UTF8)) {
      g.setPrettyPrinter(LAYOUT.createInstance());
      value(g, value);
    }
    os.write('\n');
  }

  private static void value(JsonGenerator g, Object v) throws IOException {
    if (v == null) {
      g.writeNull();
    } else if (v instanceof String) {
      g.writeString((String) v);
    } else if (v instanceof Boolean) {
      g.writeBoolean((Boolean) v);
    } else if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      g.writeNumber(((Number) v).intValue());
    } else if (v instanceof Long) {
      g.writeNumber((Long) v);
    } else if (v instanceof Double) {
      g.writeNumber((Double) v);
    } else if (v instanceof Float) {
      g.writeNumber((Float) v);
    } else if (v instanceof Map) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        g.writeFieldName(String.valueOf(e.getKey()));
        value(g, e.getValue());
      }
      g.writeEndObject();
    } else if (v instanceof Collection) {
      g.writeStartArray();
      for (Object o : (Collection<?>) v) value(g, o);
      g.writeEndArray();
    } else {
      throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
    }
  }
}

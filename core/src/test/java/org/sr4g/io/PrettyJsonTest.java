package org.sr4g.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrettyJsonTest {
  /** The layout stats.json and manifest.json had when Jackson's ObjectMapper wrote them: the bytes must not change. */
  @Test
  void writesWhatTheObjectMapperWrote() throws Exception {
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("long", 1234567890123L);
    inner.put("int", 7);
    inner.put("float", 0.01f);
    inner.put("double", 0.2);
    inner.put("null", null);
    inner.put("true", true);
    inner.put("text", "caf\u00e9 \"quoted\" \n tab\t");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("nested", inner);
    m.put("list", List.of("left of", "above"));
    m.put("empty list", List.of());
    m.put("empty map", new LinkedHashMap<>());
    m.put("maps", List.of(Map.of("a", 1), Map.of("b", 2)));

    ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    om.getFactory().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    DefaultPrettyPrinter pp = new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"));
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    om.writer(pp).writeValue(expected, m);
    expected.write('\n');

    ByteArrayOutputStream actual = new ByteArrayOutputStream();
    PrettyJson.write(actual, m);
    assertEquals(expected.toString(StandardCharsets.UTF_8), actual.toString(StandardCharsets.UTF_8));
  }
}

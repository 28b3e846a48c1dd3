package org.sr4g.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class AsciiJsonWriterTest {
  private interface Body {
    void write(AsciiJsonWriter w) throws IOException;
  }

  private static String render(Body body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AsciiJsonWriter w = new AsciiJsonWriter(out);
    body.write(w);
    w.flush();
    assertEquals(out.size(), w.bytes());
    return out.toString(StandardCharsets.US_ASCII);
  }

  @Test
  void hundredthsLikePythonFloats() throws IOException {
    assertEquals("214.27", render(w -> w.hundredths(21427)));
    assertEquals("74.0", render(w -> w.hundredths(7400)));
    assertEquals("255.2", render(w -> w.hundredths(25520)));
    assertEquals("0.05", render(w -> w.hundredths(5)));
    assertEquals("0.0", render(w -> w.hundredths(0)));
    assertEquals("640.0", render(w -> w.hundredths(64000)));
  }

  @Test
  void fixedDropsTrailingZeros() throws IOException {
    assertEquals("970.0431", render(w -> w.fixed(97004310, 5)));
    assertEquals("12.0", render(w -> w.fixed(1200000, 5)));
    assertEquals("0.00005", render(w -> w.fixed(5, 5)));
    assertEquals("3.5", render(w -> w.fixed(350000, 5)));
  }

  @Test
  void integersAndPadding() throws IOException {
    assertEquals("0,-17,9223372036854775807,-9223372036854775808",
        render(w -> w.num(0).ch(',').num(-17).ch(',').num(Long.MAX_VALUE).ch(',').num(Long.MIN_VALUE)));
    assertEquals("000000397133", render(w -> w.padded(397133, 12)));
    assertEquals("07", render(w -> w.padded(7, 2)));
  }

  @Test
  void stringsAreEscaped() throws IOException {
    assertEquals("\"a\\\"b\\\\c\\u000a\\u00e9\"", render(w -> w.string("a\"b\\c\n\u00e9")));
  }

  @Test
  void longOutputCrossesTheBuffer() throws IOException {
    String s = render(w -> {
      for (int i = 0; i < 100_000; i++) w.num(i).ch(',');
    });
    assertEquals(100_000, s.split(",").length);
    assertEquals("99999", s.split(",")[99_999]);
  }
}

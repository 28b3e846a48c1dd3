package org.sr4g.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.sr4g.UserInputException;

/** Issue 11 item 10: text from input reaches a terminal as one printable line. */
class EscapeTest {
  @Test
  void controlCharactersBecomeEscapesAndLongValuesAreCut() {
    assertEquals("cat\\u001b[31mred\\u000aline", Escape.text("cat\u001b[31mred\nline"));
    assertEquals("a\\ud800x", Escape.text("a\ud800x"));
    assertEquals("ok 😀 é", Escape.text("ok 😀 é"));
    String cut = Escape.text("x".repeat(1_000_000));
    assertTrue(cut.length() < Escape.MAX_CHARS + 30, cut.length() + "");
    assertTrue(cut.endsWith("…(1000000 chars)"), cut);
  }

  @Test
  void reportsKeepTheirLinesAndLoseEverythingElse() {
    assertEquals("| cat\\u001b[2J | 3 |\n| dog\\u0007 | 1 |\n", Escape.lines("| cat\u001b[2J | 3 |\n| dog\u0007 | 1 |\n"));
  }

  @Test
  void everyUserErrorIsOneLineEvenFromJacksonsTwoLineMessages() throws Exception {
    String jackson;
    try {
      new ObjectMapper().readTree("{\"id\": 1e30x}");
      throw new AssertionError("parsed");
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      jackson = e.getMessage();
    }
    assertTrue(jackson.contains("\n"), jackson);
    String m = new UserInputException("f.json: " + jackson).getMessage();
    assertFalse(m.contains("\n") || m.contains("[Source"), m);
    assertTrue(m.contains("(line 1, column"), m);
    assertEquals("name 'a\\u001b]0;pwned\\u0007'", new UserInputException("name 'a\u001b]0;pwned\u0007'").getMessage());
    assertTrue(new UserInputException("y".repeat(100_000)).getMessage().length() <= UserInputException.MAX_MESSAGE + 30);
  }
}

package org.sr4g.dataset;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.sr4g.UserInputException;

/** Reads --unseen-categories: one category name a line; blank lines and # comments are ignored. */
public final class UnseenNames {
  private UnseenNames() {}

  public static List<String> read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new UserInputException(file + ": no such file");
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read: " + e.getMessage(), e);
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String t = lines.get(i).strip();
      if (t.isEmpty() || t.startsWith("#")) continue;
      if (names.contains(t)) throw new UserInputException(file + ": line " + (i + 1) + ": \"" + t + "\" listed twice");
      names.add(t);
    }
    if (names.isEmpty()) throw new UserInputException(file + ": no category names");
    return names;
  }
}

package org.sr4g.evaluation;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.sr4g.UserInputException;
import org.sr4g.relations.Relation;

/** Training frequencies from {@code triplets.csv} of {@code sr4g generate}: header {@code subject,relation,object,count}. */
public final class TripletCounts {
  private final Map<String, Long> counts;

  private TripletCounts(Map<String, Long> counts) {
    this.counts = counts;
  }

  static String key(String subject, Relation r, String object) {
    return PromptReader.norm(subject) + "\u0000" + r.ordinal() + "\u0000" + PromptReader.norm(object);
  }

  /** The training count of a triplet; 0 when the triplet is absent from the file. */
  public long count(String subject, Relation r, String object) {
    return counts.getOrDefault(key(subject, r, object), 0L);
  }

  public int size() {
    return counts.size();
  }

  public static TripletCounts read(Path file) {
    Map<String, Long> m = new HashMap<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String header = r.readLine();
      if (header == null || !header.strip().equals("subject,relation,object,count")) {
        throw new UserInputException(file + ":1: expected header 'subject,relation,object,count', got '" + header + "'");
      }
      String line;
      int n = 1;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank()) continue;
        // Category names have no commas (COCO); quoted fields are accepted for safety.
        String[] f = line.replace("\"", "").split(",", -1);
        if (f.length != 4) throw new UserInputException(file + ":" + n + ": expected 4 fields, got " + f.length);
        Relation rel;
        long c;
        try {
          rel = Relation.parse(f[1]);
        } catch (IllegalArgumentException e) {
          throw new UserInputException(file + ":" + n + ": " + e.getMessage());
        }
        try {
          c = Long.parseLong(f[3].strip());
        } catch (NumberFormatException e) {
          throw new UserInputException(file + ":" + n + ": count '" + f[3] + "' is not an integer");
        }
        if (c < 0) throw new UserInputException(file + ":" + n + ": negative count " + c);
        if (m.put(key(f[0], rel, f[2]), c) != null) {
          throw new UserInputException(file + ":" + n + ": duplicate triplet " + f[0] + "," + f[1] + "," + f[2]);
        }
      }
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read: " + e.getMessage(), e);
    }
    return new TripletCounts(m);
  }
}

package org.sr4g.evaluation;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.RuntimeJsonMappingException;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sr4g.UserInputException;
import org.sr4g.io.Escape;
import org.sr4g.relations.Relation;

/**
 * Training frequencies from {@code triplets.csv} of {@code sr4g generate}: header {@code subject,relation,object,count},
 * RFC 4180 quoting (a category name may hold a comma, a quote or a line break; {@code generate} quotes it).
 */
public final class TripletCounts {
  static final String HEADER = "subject,relation,object,count";
  private static final CsvMapper CSV = CsvMapper.builder().enable(CsvParser.Feature.WRAP_AS_ARRAY).build();

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
    String where = Escape.text(file.toString());
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        MappingIterator<List<String>> it = CSV.readerForListOf(String.class).with(CsvSchema.emptySchema()).readValues(in)) {
      if (!it.hasNextValue()) throw new UserInputException(where + ":1: empty file, expected header '" + HEADER + "'");
      List<String> header = it.nextValue();
      if (!String.join(",", header).strip().equals(HEADER))
        throw new UserInputException(where + ":1: expected header '" + HEADER + "', got '"
            + Escape.text(String.join(",", header)) + "'");
      while (true) {
        long line = it.getCurrentLocation().getLineNr(); // the previous record's end: where this one starts
        if (!it.hasNextValue()) break;
        List<String> f = it.nextValue();
        String at = where + ":" + line;
        if (f.size() == 1 && f.get(0).isBlank()) continue;
        if (f.size() != 4) throw new UserInputException(at + ": expected 4 fields, got " + f.size());
        Relation rel;
        try {
          rel = Relation.parse(f.get(1));
        } catch (IllegalArgumentException e) {
          throw new UserInputException(at + ": unknown relation " + Escape.quote(f.get(1)));
        }
        long c;
        try {
          c = Long.parseLong(f.get(3).strip());
        } catch (NumberFormatException e) {
          throw new UserInputException(at + ": count " + Escape.quote(f.get(3)) + " is not an integer");
        }
        if (c < 0) throw new UserInputException(at + ": negative count " + c);
        if (m.put(key(f.get(0), rel, f.get(2)), c) != null)
          throw new UserInputException(at + ": duplicate triplet " + Escape.quote(f.get(0)) + ", " + rel.canonicalName()
              + ", " + Escape.quote(f.get(2)));
      }
    } catch (RuntimeJsonMappingException e) {
      throw new UserInputException(where + ": not valid CSV: " + Escape.text(e.getMessage()));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UserInputException(where + ":" + (e.getLocation() == null ? "?" : e.getLocation().getLineNr())
          + ": not valid CSV: " + Escape.text(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new UserInputException(where + ": cannot read: " + Escape.text(e.getMessage()));
    }
    return new TripletCounts(m);
  }
}

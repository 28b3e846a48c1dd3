package org.sr4g.dataset;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The options that decide what {@code sr4g generate} and {@code sr4g spark-generate} write, declared once: both
 * commands mix this group in ({@code @Mixin}), so names, defaults, help and checks cannot drift apart. The commands'
 * own options (inputs, output, threads, Spark settings) stay with them.
 */
public final class GenerateArgs {
  /** {@code --emit}: one relation per ordered pair, or every relation that holds. */
  public enum Emit {
    ONE,
    ALL;

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Reads {@code one}/{@code all} in any case; anything else is one line naming both values. */
    static final class Converter implements ITypeConverter<Emit> {
      @Override
      public Emit convert(String value) {
        for (Emit e : values()) if (e.name().equalsIgnoreCase(value)) return e;
        throw new TypeConversionException("must be 'one' or 'all', not '" + value + "'");
      }
    }
  }

  @Option(names = "--emit", paramLabel = "one|all", defaultValue = "one", converter = Emit.Converter.class,
      description = "one: one relation per ordered pair, drawn by (seed, ids); all: every applicable relation.")
  Emit emit = Emit.ONE;

  @Option(names = "--relations", paramLabel = "LIST", defaultValue = "all",
      description = "Relations that may be emitted: comma-separated names (\"left of,above\") or all, visor, "
          + "projective, topological, scale.")
  String relations = "all";

  @Option(names = "--same-category", description = "Also relate two objects of the same category (off by default).")
  boolean sameCategory;

  @Option(names = "--min-area", paramLabel = "FRACTION", defaultValue = "0",
      description = "Ignore boxes smaller than this fraction of the image area.")
  float minArea;

  @Option(names = "--max-objects", paramLabel = "N", defaultValue = "0",
      description = "Skip images with more than N eligible objects (0: no limit).")
  int maxObjects;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the emission choice and the unseen split.")
  long seed;

  @Option(names = "--unseen-fraction", paramLabel = "F", defaultValue = "0.2",
      description = "Fraction of categories held out as unseen (ignored with --unseen-categories).")
  double unseenFraction = 0.2;

  @Option(names = "--unseen-categories", paramLabel = "FILE",
      description = "File with one unseen category name per line, # comments (instead of --unseen-fraction; "
          + "default: none).")
  Path unseenFile;

  /** Where explicit unseen names came from (for messages), or null. */
  public String unseenOrigin() {
    return unseenFile == null ? null : unseenFile.toString();
  }

  /** The file of unseen names, or null: an input of the run (it may not be inside --out). */
  public Path unseenFile() {
    return unseenFile;
  }

  /** The options, checked; every mistake is a {@link org.sr4g.UserInputException} naming the option. */
  public GenerateOptions options(int threads, boolean lenient) {
    List<String> unseenNames = unseenFile == null ? null : UnseenNames.read(unseenFile);
    return GenerateOptions.fromCli(
        emit == Emit.ALL, relations, sameCategory, minArea, maxObjects, seed, unseenFraction, unseenNames, threads, lenient);
  }
}

package org.sr4g.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.sr4g.UserInputException;
import org.sr4g.coco.CocoSource;
import org.sr4g.dataset.GenerateOptions;
import org.sr4g.dataset.GenerateResult;
import org.sr4g.dataset.OutputDir;
import org.sr4g.dataset.Sr4gGenerator;
import org.sr4g.dataset.GenerateArgs;
import org.sr4g.io.Escape;
import org.sr4g.relations.Family;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    showDefaultValues = true,
    description = {
      "Regenerate the SR4G dataset: relate every eligible ordered pair of COCO boxes with the 14 sr4g14 relations, "
          + "write captions, train / unseen-object / evaluation splits, statistics and a manifest.",
      "Without --train: the built-in synthetic sample, written to the folder sr4g-sample."
    },
    footer = {
      "",
      "Examples:",
      "  sr4g generate",
      "      built-in sample, output in ./sr4g-sample",
      "  sr4g generate --train instances_train2017.json \\",
      "      --eval instances_val2017.json --out sr4g/",
      "  sr4g generate --train a.json --train b.json --emit all \\",
      "      --relations visor --out sr4g-visor/",
      "  sr4g generate --train t.json --unseen-categories held_out.txt \\",
      "      --min-area 0.01 --max-objects 10 --out o/",
      "",
      "Output files and their fields: docs/formats.md. Rules: docs/relations.md."
    })
final class GenerateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--train", paramLabel = "FILE", showDefaultValue = Help.Visibility.NEVER, description = "COCO instances file for training rows (repeatable; default: the built-in sample).")
  List<Path> train = new ArrayList<>();

  @Option(names = "--eval", paramLabel = "FILE", showDefaultValue = Help.Visibility.NEVER, description = "COCO instances file for evaluation prompts (repeatable; default: none, so no prompts).")
  List<Path> eval = new ArrayList<>();

  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (required with --train; default for the built-in sample: sr4g-sample).")
  Path out;

  @Option(names = "--force", description = "Replace a previous sr4g output in --out (never a folder sr4g did not write; off by default).")
  boolean force;

  /** --emit, --relations, --same-category, --min-area, --max-objects, --seed, --unseen-*: shared with spark-generate. */
  @Mixin GenerateArgs generation;

  @Option(names = "--lenient", description = "Drop and count annotations whose image or category is unknown instead of failing (off by default).")
  boolean lenient;

  @Option(names = "--threads", paramLabel = "N",
      description = "Worker threads relating and rendering (default: cores - 1, at least 1; one more thread writes the files, and reading uses N + 1). Output never depends on it.")
  Integer threads;

  @Option(names = "--sample-images", paramLabel = "N", defaultValue = "2000",
      description = "Images in the built-in sample (only without --train).")
  int sampleImages;

  @Option(names = {"-q", "--quiet"}, description = "No progress bar (shown by default on a terminal).")
  boolean quiet;

  @Override
  public Integer call() {
    PrintWriter outw = spec.commandLine().getOut();
    GenerateOptions opt = options();
    List<CocoSource> trainSources = new ArrayList<>();
    List<CocoSource> evalSources = new ArrayList<>();
    Path target = out;
    boolean forceIt = force;
    if (train.isEmpty()) {
      if (!eval.isEmpty()) throw new UserInputException("--eval needs --train");
      BuiltInSample sample = BuiltInSample.create(sampleImages);
      trainSources.add(sample.train());
      evalSources.add(sample.eval());
      if (target == null) {
        target = Path.of("sr4g-sample");
        // The default sample directory is ours: replacing a previous sample run is what the user expects.
        forceIt = forceIt || BuiltInSample.isPreviousSampleOutput(target);
      }
    } else {
      if (target == null) throw new UserInputException("--out DIR is required with --train");
      for (Path p : train) trainSources.add(CocoSource.of(p));
      for (Path p : eval) evalSources.add(CocoSource.of(p));
    }
    ProgressBar bar = new ProgressBar(System.err, quiet);
    GenerateResult r;
    List<Path> inputs = new ArrayList<>(train);
    inputs.addAll(eval);
    if (generation.unseenFile() != null) inputs.add(generation.unseenFile());
    try (OutputDir dir = OutputDir.prepare("generate", target, forceIt, inputs)) {
      r = new Sr4gGenerator(opt).onProgress(bar).run(trainSources, evalSources, generation.unseenOrigin(), dir);
      dir.commit();
    } finally {
      bar.finish();
    }
    outw.print(summary(r, train.isEmpty()));
    outw.flush();
    return 0;
  }

  private GenerateOptions options() {
    return generation.options(threads == null ? GenerateOptions.defaultThreads() : threads, lenient);
  }

  static String summary(GenerateResult r, boolean sample) {
    StringBuilder sb = new StringBuilder();
    double secs = r.totalNanos() / 1e9;
    String fmt = "  %-28s %,15d%n";
    sb.append(sample ? "sr4g generate: built-in synthetic sample\n" : "sr4g generate\n");
    sb.append(String.format(fmt, "train images", r.trainImages()));
    sb.append(String.format(fmt, "train boxes", r.trainBoxes()));
    sb.append(String.format(fmt, "eligible ordered pairs", r.eligiblePairs()));
    sb.append(String.format(fmt, "train.jsonl rows", r.rows()));
    for (Family f : Family.values()) sb.append(String.format(fmt, "  " + f.label(), r.rowsByFamily()[f.ordinal()]));
    sb.append(String.format(fmt, "train_unseen.jsonl rows", r.trainUnseenRows()));
    sb.append(String.format(fmt, "prompts_val.jsonl", r.prompts().val()));
    sb.append(String.format(fmt, "prompts_test.jsonl", r.prompts().test()));
    sb.append(String.format(fmt, "prompts_test_unseen.jsonl", r.prompts().testUnseen()));
    sb.append(String.format("  %-28s %s%n", "unseen categories", String.join(", ", r.unseenCategories().stream().map(Escape::text).toList())));
    sb.append(String.format("  %-28s %15s%n", "relation kernel", r.kernel()));
    sb.append(String.format("  %-28s %15.2f s (read %.2f s, relate+write %.2f s)%n", "time", secs, r.parseNanos() / 1e9, r.relateNanos() / 1e9));
    sb.append(String.format("  %-28s %,15.0f pairs/s, %.0f MB/s input%n", "throughput", r.eligiblePairs() / secs, r.inputBytes() / 1e6 / secs));
    sb.append(String.format("  %-28s %s%n", "output", r.out()));
    return sb.toString();
  }
}

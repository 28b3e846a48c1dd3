package org.sr4g.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.sr4g.UserInputException;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.CocoReader;
import org.sr4g.coco.CocoSource;
import org.sr4g.relations.Family;
import org.sr4g.relations.Relation;
import org.sr4g.relations.RelationKernel;

/**
 * {@code sr4g generate}: COCO instance files in, the SR4G dataset out (train rows, unseen-object split, evaluation
 * prompts, statistics, manifest). See docs/formats.md for every file and docs/relations.md for the rules.
 *
 * <p>The run: read the train inputs on all cores; then, while the train pass relates, renders and writes the rows, a
 * side thread reads the eval inputs, runs the eval pass and hashes the inputs for the manifest (the writer is the
 * bottleneck of the train pass, so the side work fits in the workers' slack); then the small files.
 */
public final class Sr4gGenerator {
  /** Name of the taxonomy written to the manifest; bump when any rule changes. */
  public static final String TAXONOMY = Manifest.TAXONOMY;

  private final GenerateOptions opt;
  private final RelationKernel givenKernel;
  private Progress progress = Progress.NONE;

  /** The relation kernel is chosen once the inputs are read: {@link RelationKernel#forWorkload}. */
  public Sr4gGenerator(GenerateOptions opt) {
    this(opt, null);
  }

  /** With {@code kernel} whatever the workload ({@code null}: chosen as by {@link #Sr4gGenerator(GenerateOptions)}). */
  public Sr4gGenerator(GenerateOptions opt, RelationKernel kernel) {
    this.opt = opt;
    this.givenKernel = kernel;
  }

  public Sr4gGenerator onProgress(Progress p) {
    this.progress = p;
    return this;
  }

  /** What the side thread computes while the train pass runs. */
  private record Side(EvalPass evalPass, List<String> sha256) {}

  /**
   * Runs the whole job into {@code out} (already checked by {@link OutputDir#prepare}); {@code unseenOrigin} names
   * where explicit unseen categories came from, for messages.
   */
  public GenerateResult run(List<CocoSource> train, List<CocoSource> eval, String unseenOrigin, OutputDir out) {
    if (train.isEmpty()) throw new UserInputException("no --train input");
    long t0 = System.nanoTime();
    List<CocoSource> all = new ArrayList<>(train);
    all.addAll(eval);
    long trainBytes = train.stream().mapToLong(CocoSource::size).sum();
    CocoDataset trainSet =
        reader(opt.threads() + 1).onProgress(b -> progress.update("reading train", b, trainBytes)).read(train);
    // The categories of the eval inputs take part in the unseen split: read them first (cheap next to the pass).
    CocoDataset evalSet = eval.isEmpty() ? null : reader(opt.threads() + 1).read(eval);
    long t1 = System.nanoTime();
    long boxPairs = Eligibility.boxPairs(trainSet) + (evalSet == null ? 0 : Eligibility.boxPairs(evalSet));
    RelationKernel kernel = givenKernel != null ? givenKernel : RelationKernel.forWorkload(boxPairs);
    // The summary says when the automatic choice took the scalar kernel for a small run (the manifest has the name).
    String kernelNote = givenKernel == null && kernel != RelationKernel.best()
        ? String.format(Locale.ROOT, "%s (auto: %,d box pairs, a small run)", kernel.name(), boxPairs)
        : kernel.name();

    CategoryTable cats = CategoryTable.merge(evalSet == null ? List.of(trainSet) : List.of(trainSet, evalSet));
    PairStats.requireTripletTablesFit(cats.size(), opt.threads() + 1,
        all.stream().map(CocoSource::name).collect(java.util.stream.Collectors.joining(", ")));
    boolean[] unseen = UnseenSplit.of(cats, opt, unseenOrigin);
    CompletableFuture<Side> side = CompletableFuture.supplyAsync(() -> new Side(
        evalSet == null ? null : new EvalPass(evalSet, opt, cats, kernel), sha256All(all)));
    PairStats st =
        new TrainPass(trainSet, opt, cats, unseen, kernel)
            .run(out.file("train.jsonl"), out.file("train_unseen.jsonl"), progress);
    long t2 = System.nanoTime();

    Side s = join(side);
    InputCounts evalCounts = evalSet == null ? null : InputCounts.of(evalSet, cats);
    PromptCounts prompts = SummaryFiles.write(out, cats, unseen, InputCounts.of(trainSet, cats), evalCounts, st, s.evalPass());
    List<String> unseenNames = UnseenSplit.names(cats, unseen);
    long t3 = System.nanoTime();

    List<Manifest.Input> inputs = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      inputs.add(new Manifest.Input(i < train.size() ? "train" : "eval", all.get(i).name(), all.get(i).size(), s.sha256().get(i)));
    }
    long total = System.nanoTime() - t0;
    Manifest.Counts counts = new Manifest.Counts(
        trainSet.imageCount(), trainSet.boxCount(), st.eligiblePairs, st.rows, st.seenPairRows, prompts);
    new Manifest("generate", Manifest.options(opt), inputs, opt.seed(), unseenNames, counts, null, null,
        runBlock(kernel, t1 - t0, t2 - t1, t3 - t2, total)).write(out.file("manifest.json"));

    long[] byFamily = new long[Family.values().length];
    for (Relation r : Relation.all()) byFamily[r.family().ordinal()] += st.rowsByRelation[r.ordinal()];
    long inputBytes = all.stream().mapToLong(CocoSource::size).sum();
    return new GenerateResult(
        out.target(), kernelNote, trainSet.imageCount(), trainSet.boxCount(), st.eligiblePairs, st.rows,
        st.seenPairRows, byFamily, prompts, unseenNames, inputBytes, t1 - t0, t2 - t1, total);
  }

  /** Reading uses every core: nothing else runs meanwhile (the workers' count leaves one core to the writer). */
  private CocoReader reader(int threads) {
    return new CocoReader(opt.lenient()).parallelism(threads);
  }

  /** The manifest's {@code run} block: what describes this run rather than the data. */
  private Map<String, Object> runBlock(RelationKernel kernel, long readNanos, long trainNanos, long summaryNanos, long totalNanos) {
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("threads", opt.threads());
    run.put("kernel", kernel.name());
    run.put("java", Runtime.version().toString());
    Map<String, Object> timings = new LinkedHashMap<>();
    timings.put("read_ms", readNanos / 1_000_000);
    timings.put("relate_and_write_train_ms", trainNanos / 1_000_000);
    timings.put("eval_prompts_and_stats_ms", summaryNanos / 1_000_000);
    timings.put("total_ms", totalNanos / 1_000_000);
    run.put("timings", timings);
    return run;
  }

  private static <T> T join(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException ? (RuntimeException) e.getCause() : e;
    }
  }

  private static List<String> sha256All(List<CocoSource> sources) {
    List<String> out = new ArrayList<>();
    byte[] buf = new byte[1 << 20];
    for (CocoSource s : sources) {
      try (InputStream in = s.open()) {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        out.add(HexFormat.of().formatHex(md.digest()));
      } catch (IOException e) {
        throw new UserInputException(s + ": cannot read: " + e.getMessage(), e);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }
}

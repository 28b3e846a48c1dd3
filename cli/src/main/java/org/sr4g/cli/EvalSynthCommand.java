package org.sr4g.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import org.sr4g.UserInputException;
import org.sr4g.evaluation.PromptReader;
import org.sr4g.evaluation.PromptSet;
import org.sr4g.evaluation.SyntheticDetections;
import org.sr4g.evaluation.TripletCounts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code sr4g eval synth}: synthetic format (b) detections with a chosen accuracy, for tests and benchmarks. */
@Command(
    name = "synth",
    mixinStandardHelpOptions = true,
    header = "Write synthetic detections (JSONL) for a prompt file.",
    description = "Writes synthetic detections (JSONL, one image a line) for a prompt file: each object is detected"
        + " with probability --detect; when both are, their boxes satisfy the prompt's relation with probability"
        + " --accuracy (checked with the sr4g rule engine), else its opposite. No images or detector involved.",
    footer = {"", "Example:", "  sr4g eval synth --prompts sr2d.json --accuracy 0.6 --out dets.jsonl"})
final class EvalSynthCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--prompts", required = true, paramLabel = "FILE", description = "prompts (either format)")
  Path prompts;
  @Option(names = "--out", required = true, paramLabel = "FILE", description = "detections JSONL to write")
  Path out;
  @Option(names = "--images-per-prompt", defaultValue = "4", paramLabel = "N",
      description = "images per prompt (default: ${DEFAULT-VALUE})") int imagesPerPrompt;
  @Option(names = "--detect", defaultValue = "0.9", paramLabel = "P",
      description = "per-object detection probability (default: ${DEFAULT-VALUE})") double detect;
  @Option(names = "--accuracy", defaultValue = "0.6", paramLabel = "P",
      description = "probability the relation holds when both are detected (default: ${DEFAULT-VALUE})")
  double accuracy;
  @Option(names = "--triplets", paramLabel = "FILE", description = "triplets.csv: accuracy then rises with frequency")
  Path triplets;
  @Option(names = "--frequency-slope", defaultValue = "0.4", paramLabel = "D",
      description = "accuracy change from rarest to most frequent triplet (with --triplets; default: ${DEFAULT-VALUE})")
  double slope;
  @Option(names = "--seed", defaultValue = "7", description = "random seed (default: ${DEFAULT-VALUE})") long seed;

  @Override
  public Integer call() throws IOException {
    if (imagesPerPrompt < 1) throw new UserInputException("--images-per-prompt must be >= 1");
    if (!(detect >= 0 && detect <= 1) || !(accuracy >= 0 && accuracy <= 1)) {
      throw new UserInputException("--detect and --accuracy must be in [0, 1]");
    }
    PromptSet ps = PromptReader.read(EvalCommand.requireFile(prompts, "--prompts"), Set.of());
    TripletCounts tc = triplets == null ? null : TripletCounts.read(EvalCommand.requireFile(triplets, "--triplets"));
    long n = SyntheticDetections.write(out, ps, tc,
        new SyntheticDetections.Settings(imagesPerPrompt, detect, accuracy, slope, seed));
    spec.commandLine().getOut().println("wrote " + n + " images to " + out);
    spec.commandLine().getOut().flush();
    return 0;
  }
}

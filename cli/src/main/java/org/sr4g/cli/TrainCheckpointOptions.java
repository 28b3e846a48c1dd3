package org.sr4g.cli;

import org.sr4g.diffusion.training.TrainOptions;
import picocli.CommandLine.Option;

/** {@code sr4g train}'s checkpoint, resume and validation options (a picocli mixin). */
final class TrainCheckpointOptions {
  @Option(names = {"--checkpoint-every", "--checkpointing_steps"}, defaultValue = "500", paramLabel = "N",
      description = "0: only at the end (default: ${DEFAULT-VALUE})") int checkpointEvery;
  @Option(names = {"--checkpoints-limit", "--checkpoints_total_limit"}, defaultValue = "0", paramLabel = "N",
      description = "keep the newest N, 0: all (default: ${DEFAULT-VALUE})") int checkpointsLimit;
  @Option(names = {"--resume", "--resume_from_checkpoint"}, paramLabel = "latest|DIR",
      description = "continue from OUT's newest checkpoint or DIR (default: a new run)") String resume;
  @Option(names = "--validation-prompts", paramLabel = "FILE|TEXT",
      description = "prompts file (one per line, or JSONL with prompt/text/caption) or one prompt, sampled into"
          + " OUT/validation/step-N.png (default: no validation)") String validationPrompts;
  @Option(names = "--validation-every", defaultValue = "0", paramLabel = "K",
      description = "sample the validation prompts every K steps and after the last; 0: only after the last (default: ${DEFAULT-VALUE})")
  int validationEvery;
  @Option(names = "--validation-steps", defaultValue = "8", paramLabel = "N",
      description = "sampler steps per validation image (default: ${DEFAULT-VALUE})") int validationSteps;
  @Option(names = "--validation-clip-skip", defaultValue = "1", paramLabel = "N",
      description = "1: last text-encoder layer (SD 1.x), 2: penultimate (SD 2.x) (default: ${DEFAULT-VALUE})") int validationClipSkip;

  void applyTo(TrainOptions o) {
    o.checkpointEvery = checkpointEvery;
    o.checkpointsLimit = checkpointsLimit;
    o.resume = resume;
    o.validationPrompts = validationPrompts;
    o.validationEvery = validationEvery;
    o.validationSteps = validationSteps;
    o.validationClipSkip = validationClipSkip;
  }
}

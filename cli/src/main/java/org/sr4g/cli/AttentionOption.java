package org.sr4g.cli;

import org.sr4g.UserInputException;
import org.sr4g.torch.AttentionSlicing;
import picocli.CommandLine.Option;

/** {@code --attention-slice} for every command that runs a model (a picocli mixin). */
final class AttentionOption {
  @Option(names = "--attention-slice", defaultValue = "auto", paramLabel = "auto|N|off",
      description = "attention in chunks of N query rows; auto: only where the scores of one call would pass 256 MiB"
          + " (the tiny model at 512 px needs it: 16 GiB of scores per head otherwise) (default: ${DEFAULT-VALUE})")
  String value;

  /** Parses the option and makes it the process's setting; a bad value is a user error. */
  AttentionSlicing apply() {
    AttentionSlicing s;
    try {
      s = AttentionSlicing.parse(value);
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--attention-slice: " + e.getMessage());
    }
    AttentionSlicing.set(s);
    return s;
  }
}

package org.sr4g.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code sr4g bench}: performance measurements (one subcommand per measurement). */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    header = "Measure performance (sr4g bench infer: UNet denoising speed and memory).",
    subcommands = {BenchInferCommand.class})
final class BenchCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }
}

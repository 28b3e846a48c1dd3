package org.sr4g.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sr4g} command: one entry point, one subcommand per job. */
@Command(
    name = "sr4g",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Spatially faithful text-to-image toolkit: regenerate SR4G, train and sample, evaluate.",
    footer = {
      "",
      "On Spark (the ./sr4g launcher runs these with Spark on the classpath): spark-generate, export-boxes, synth-boxes.",
      "See docs/scale-out.md."
    },
    subcommands = {
      GenerateCommand.class,
      SynthCommand.class,
      EvalCommand.class,
      PromptsCommand.class,
      InitModelCommand.class,
      SampleCommand.class,
      DetectCommand.class,
      EvaluateCommand.class,
      TrainCommand.class,
      CacheCommand.class,
      ConvertCommand.class,
      LoraCommand.class,
      BenchCommand.class,
      DoctorCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Sr4g implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns the exit code (tests call this instead of {@link #main}). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Sr4g()).setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler(new UserErrors());
    cl.setParameterExceptionHandler(new UserErrors.BadArguments());
    cl.setCaseInsensitiveEnumValuesAllowed(true); // --format COCO, --conv-packing OFF
    return cl;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }
}

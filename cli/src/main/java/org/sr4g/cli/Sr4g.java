package org.sr4g.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code sr4g} command: one entry point, one subcommand per job.
 *
 * <p>picocli builds a command's whole model (options, mixins, nested subcommands) by reflection when it is added, and
 * its classes cannot enter the AOT cache (old bytecode), so building all of them costs a short run more CPU than
 * anything else at start-up. {@link #run} therefore builds only the subcommand {@code args[0]} names, and the whole
 * tree only where the tree is what is shown or searched: no arguments, {@code --help}, {@code help}, a name sr4g does
 * not know (picocli's "did you mean" suggestions), an option before the subcommand.
 */
@Command(
    name = "sr4g",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Spatially faithful text-to-image toolkit: regenerate SR4G, train and sample, evaluate.",
    footer = {
      "",
      "On Spark (the ./sr4g launcher runs these with Spark on the classpath): spark-generate, export-boxes, synth-boxes.",
      "See docs/scale-out.md."
    })
public final class Sr4g implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** The subcommands in the order {@code sr4g --help} lists them: the one list both ways of building read. */
  static final List<Class<?>> SUBCOMMANDS = List.of(
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
      CommandLine.HelpCommand.class);

  /** Runs the CLI and returns the exit code (tests call this instead of {@link #main}). */
  public static int run(String... args) {
    return commandLine(args).execute(args);
  }

  /** The whole command tree. */
  static CommandLine commandLine() {
    return commandLine(SUBCOMMANDS);
  }

  /**
   * What {@code args} needs: the top-level command with only the subcommand {@code args[0]} names, when it names one
   * other than {@code help}; none for {@code --version} alone; otherwise the whole tree. Parsing, help, errors and
   * exit codes are then the same as with the whole tree.
   */
  static CommandLine commandLine(String... args) {
    if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) return commandLine(List.of());
    if (args.length > 0 && !args[0].equals("help")) {
      for (Class<?> c : SUBCOMMANDS) {
        if (c.getAnnotation(Command.class).name().equals(args[0])) return commandLine(List.of(c));
      }
    }
    return commandLine(SUBCOMMANDS);
  }

  private static CommandLine commandLine(List<Class<?>> subcommands) {
    CommandLine cl = new CommandLine(new Sr4g()).setCaseInsensitiveEnumValuesAllowed(true);
    for (Class<?> c : subcommands) cl.addSubcommand(c);
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

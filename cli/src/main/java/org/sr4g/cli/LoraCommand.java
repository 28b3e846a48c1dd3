package org.sr4g.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.sr4g.diffusion.ModelSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sr4g lora}: working with LoRA files (merge; training comes with {@code sr4g train}). */
@Command(name = "lora", mixinStandardHelpOptions = true,
    header = "LoRA files: sr4g lora merge bakes them into a model folder.",
    subcommands = {LoraCommand.Merge.class})
final class LoraCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code sr4g lora merge}: W + s·α/r·B·A for every adapted layer, written as a new diffusers folder. */
  @Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
      header = "Bake LoRA files into a model and save it as a diffusers folder.",
      description = "Every adapted layer's weight becomes W + scale·alpha/rank·B·A (float32), several files adding up;"
          + " the result samples as `sr4g sample --model MODEL --lora FILE:SCALE` does. Reads the diffusers"
          + " (pytorch_lora_weights.safetensors), PEFT and kohya/A1111 layouts. Details: docs/diffusion.md.",
      footer = {"", "Example:", "  sr4g lora merge --model sd-v1-5 \\",
          "      --lora pytorch_lora_weights.safetensors:0.8 --out sd-v1-5-lora"})
  static final class Merge implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin ModelOptions model;
    @Option(names = "--lora", required = true, paramLabel = "FILE[:SCALE]",
        description = "LoRA file and scale (default 1); repeatable") List<String> loras;
    @Mixin FolderOutput output;

    @Override
    public Integer call() {
      PrintWriter o = spec.commandLine().getOut();
      try (ModelSource s = model.open(loras, o)) {
        output.write(s, o);
      }
      return 0;
    }
  }
}

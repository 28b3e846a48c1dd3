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

/** {@code sr4g convert}: any model source (a single-file checkpoint above all) saved as a diffusers folder. */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Save a model (e.g. a single-file SD 1.x/2.x checkpoint) as a diffusers folder.",
    description = "Reads --model as every command does (diffusers folder, Hugging Face id from the local cache, or a"
        + " single-file .safetensors checkpoint in the original LDM layout, converted as diffusers' from_single_file"
        + " does) and writes model_index.json, unet/, vae/, text_encoder/, tokenizer/ and scheduler/ into --out, which"
        + " diffusers' from_pretrained and every sr4g command read. Written to a temporary folder and renamed: a complete"
        + " folder or none. Details: docs/diffusion.md.",
    footer = {"", "Example:", "  sr4g convert --model v1-5-pruned-emaonly.safetensors --out sd-v1-5",
        "  sr4g convert --model v2-1_768-ema-pruned.safetensors \\",
        "      --tokenizer clip-tokenizer/ --out sd-v2-1"})
final class ConvertCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin ModelOptions model;
  @Mixin FolderOutput output;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    try (ModelSource s = model.open(List.of(), o)) {
      output.write(s, o);
    }
    return 0;
  }
}

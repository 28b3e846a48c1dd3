package org.sr4g.cli;

import java.util.List;
import org.sr4g.diffusion.training.TrainOptions;
import picocli.CommandLine.Option;

/** {@code sr4g train}'s LoRA options (a picocli mixin): train low-rank adapters instead of the UNet (docs/training.md). */
final class LoraTrainOptions {
  @Option(names = "--lora-rank", defaultValue = "0", paramLabel = "R",
      description = "train rank-R LoRA adapters instead of the UNet (base weights frozen; OUT/pytorch_lora_weights"
          + ".safetensors in diffusers' layout); 0: off (default: ${DEFAULT-VALUE})") int rank;
  @Option(names = "--lora-alpha", paramLabel = "A", description = "LoRA alpha: the adapters' output is scaled by A/R"
      + " (default: R)") Double alpha;
  @Option(names = "--lora-targets", paramLabel = "NAMES", split = ",", description = "UNet modules that get adapters,"
      + " diffusers names or their last parts (default: to_q,to_k,to_v,to_out.0; with --train-text-encoder also the"
      + " text encoder's q_proj,k_proj,v_proj,out_proj)") List<String> targets;

  void applyTo(TrainOptions o) {
    o.loraRank = rank;
    o.loraAlpha = alpha;
    if (targets != null) o.loraTargets = targets.stream().map(String::strip).toList();
  }
}

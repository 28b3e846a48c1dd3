package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** diffusers' train_text_to_image.py flag names are aliases of sr4g train's (the table in docs/training.md). */
class TrainAliasesTest {

  private static String[] with(List<String> args, String... more) {
    List<String> all = new java.util.ArrayList<>(args);
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Test
  void diffusersFlagNamesTrainExactlyAsSr4gNames(@TempDir Path tmp) throws Exception {
    TrainCommandTest.requireTorch();
    TrainCommandTest.setup(tmp);
    String model = tmp.resolve("model").toString(), data = tmp.resolve("train.jsonl").toString(),
        images = tmp.resolve("images").toString();
    CliRun sr4g = CliRun.of("train", "--model", model, "--data", data, "--images", images, "--out",
        tmp.resolve("a").toString(), "--resolution", "16", "--batch-size", "2", "--grad-accum", "2", "--max-steps", "2",
        "--lr", "1e-3", "--lr-scheduler", "constant_with_warmup", "--lr-warmup-steps", "1", "--adam-beta1", "0.8",
        "--adam-beta2", "0.99", "--weight-decay", "0.02", "--adam-eps", "1e-7", "--max-grad-norm", "0.5",
        "--snr-gamma", "5", "--noise-offset", "0.05", "--prediction-type", "v_prediction", "--ema",
        "--checkpoint-every", "1", "--checkpoints-limit", "1", "--caption-dropout", "0.5", "--workers", "1",
        "--seed", "3", "--random-flip");
    assertEquals(0, sr4g.code(), sr4g.out() + sr4g.err());
    List<String> diffusersArgs = List.of("train", "--pretrained_model_name_or_path", model, "--data", data, "--images",
        images, "--output_dir", tmp.resolve("b").toString(), "--resolution", "16", "--train_batch_size", "2",
        "--gradient_accumulation_steps", "2", "--learning_rate", "1e-3", "--lr_scheduler", "constant_with_warmup",
        "--lr_warmup_steps", "1", "--adam_beta1", "0.8", "--adam_beta2", "0.99", "--adam_weight_decay", "0.02",
        "--adam_epsilon", "1e-7", "--max_grad_norm", "0.5", "--snr_gamma", "5", "--noise_offset", "0.05",
        "--prediction_type", "v_prediction", "--use_ema", "--checkpointing_steps", "1", "--checkpoints_total_limit", "1",
        "--proportion_empty_prompts", "0.5", "--dataloader_num_workers", "1", "--seed", "3", "--random_flip");
    CliRun diffusers = CliRun.of(with(diffusersArgs, "--max_train_steps", "2"));
    assertEquals(0, diffusers.code(), diffusers.out() + diffusers.err());
    assertEquals(TrainCommandTest.losses(tmp.resolve("a/metrics.jsonl")), TrainCommandTest.losses(tmp.resolve("b/metrics.jsonl")));
    assertArrayEquals(Files.readAllBytes(tmp.resolve("a/model/unet/diffusion_pytorch_model.safetensors")),
        Files.readAllBytes(tmp.resolve("b/model/unet/diffusion_pytorch_model.safetensors")));
    try (var s = Files.list(tmp.resolve("b/checkpoints"))) {
      assertEquals(List.of("checkpoint-2"), s.map(p -> p.getFileName().toString()).toList(), "--checkpoints_total_limit 1");
    }
    // --resume_from_checkpoint latest and --gradient_checkpointing / --mixed_precision are names of the same options too.
    CliRun resumed = CliRun.of(with(diffusersArgs, "--max_train_steps", "3", "--resume_from_checkpoint", "latest",
        "--gradient_checkpointing", "--mixed_precision", "no"));
    assertEquals(0, resumed.code(), resumed.out() + resumed.err());
    assertTrue(resumed.out().contains("resumed from"), resumed.out());
  }
}

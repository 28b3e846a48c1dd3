package org.sr4g.diffusion.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.sr4g.UserInputException;
import org.sr4g.io.AtomicFiles;
import org.sr4g.io.Staging;
import org.sr4g.diffusion.lora.LoraWriter;
import org.sr4g.diffusion.lora.TrainableLora;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;
import org.sr4g.torch.AdamW;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.GradScaler;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * Training checkpoints: {@code OUT/checkpoints/checkpoint-<step>/} holding {@code unet/config.json} and
 * {@code unet/diffusion_pytorch_model.safetensors} (diffusers layout, float32), with {@code --ema} the same under
 * {@code unet_ema/}, {@code optimizer.safetensors}
 * ({@code exp_avg/<param>}, {@code exp_avg_sq/<param>}), with {@code --train-text-encoder} {@code text_encoder/}
 * ({@code config.json}, {@code model.safetensors}) and {@code text_encoder_optimizer.safetensors}, and
 * {@code state.json} (step, data cursor, seed, the options that must not change on resume, and as {@code settings}
 * some that may, such as gradient checkpointing). A checkpoint is written through core's
 * {@link AtomicFiles#writeFolder} into a hidden staging folder, every file and the folder are fsynced, and only then
 * is it renamed to its final name: a crash at any point leaves either a complete checkpoint or none (a leftover
 * staging folder is ignored by {@link #list} and removed when that step is written again).
 */
public final class Checkpoints {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String PREFIX = "checkpoint-";

  private Checkpoints() {}

  /**
   * What a checkpoint restores besides tensors. {@code dataPosition}: the stream position to continue from (for
   * several ranks the first one no rank has reached); {@code worldSize}: the number of ranks that wrote it (1 for
   * checkpoints from before distributed training); {@code rankPositions}: each rank's own cursor, or null for one.
   */
  public record State(long step, long dataPosition, ObjectNode fixedOptions, long skippedSteps, int worldSize,
      long[] rankPositions) {}

  /** A trained text encoder: its config file (copied), parameters and optimizer. */
  public record TextEncoder(Path config, Params params, AdamW opt) {}

  static final String TEXT_ENCODER_OPTIMIZER = "text_encoder_optimizer.safetensors";
  /** A LoRA run's EMA adapters, beside {@link LoraWriter#FILE_NAME}. */
  static final String LORA_EMA = "pytorch_lora_weights_ema.safetensors";

  public static Path dir(Path out) {
    return out.resolve("checkpoints");
  }

  /**
   * With {@code lora} (a LoRA run: {@code unet} and {@code te}'s parameters are its adapters) the trained weights are
   * {@code pytorch_lora_weights.safetensors} (a diffusers LoRA file, {@link TrainableLora#write}) and, with EMA,
   * {@code pytorch_lora_weights_ema.safetensors} (the UNet adapters' averages, the text encoder's as trained) instead
   * of {@code unet/}, {@code unet_ema/} and {@code text_encoder/}; the optimizer files are keyed by the adapters' names.
   */
  public static void save(Path out, long step, long dataPosition, ObjectNode fixedOptions, Path unetConfig,
      Params unet, TrainableLora lora, AdamW opt, Ema ema, TextEncoder te, GradScaler scaler, long skippedSteps,
      int limit, ObjectNode settings, long[] rankPositions) {
    try {
      Path root = dir(out);
      Files.createDirectories(root);
      AtomicFiles.writeFolder(root.resolve(PREFIX + step), true, tmp -> {
        List<Path> files = new ArrayList<>();
        if (lora != null) {
          lora.write(tmp.resolve(LoraWriter.FILE_NAME));
          files.add(tmp.resolve(LoraWriter.FILE_NAME));
          if (ema != null) {
            lora.write(tmp.resolve(LORA_EMA), ema.named());
            files.add(tmp.resolve(LORA_EMA));
          }
          if (te != null) {
            writeOptimizer(te.params(), te.opt(), tmp.resolve(TEXT_ENCODER_OPTIMIZER));
            files.add(tmp.resolve(TEXT_ENCODER_OPTIMIZER));
          }
        } else {
          Files.createDirectories(tmp.resolve("unet"));
          Files.copy(unetConfig, tmp.resolve("unet/config.json"));
          writeParams(unet.named(), tmp.resolve("unet/diffusion_pytorch_model.safetensors"));
          files.addAll(List.of(tmp.resolve("unet/config.json"), tmp.resolve("unet/diffusion_pytorch_model.safetensors")));
          AtomicFiles.fsync(tmp.resolve("unet"), true);
        }
        if (ema != null && lora == null) {
          Files.createDirectories(tmp.resolve("unet_ema"));
          Files.copy(unetConfig, tmp.resolve("unet_ema/config.json"));
          writeParams(ema.named(), tmp.resolve("unet_ema/diffusion_pytorch_model.safetensors"));
          files.add(tmp.resolve("unet_ema/config.json"));
          files.add(tmp.resolve("unet_ema/diffusion_pytorch_model.safetensors"));
          AtomicFiles.fsync(tmp.resolve("unet_ema"), true);
        }
        if (te != null && lora == null) {
          Files.createDirectories(tmp.resolve("text_encoder"));
          Files.copy(te.config(), tmp.resolve("text_encoder/config.json"));
          writeParams(te.params().named(), tmp.resolve("text_encoder/model.safetensors"));
          writeOptimizer(te.params(), te.opt(), tmp.resolve(TEXT_ENCODER_OPTIMIZER));
          files.addAll(List.of(tmp.resolve("text_encoder/config.json"), tmp.resolve("text_encoder/model.safetensors"),
              tmp.resolve(TEXT_ENCODER_OPTIMIZER)));
          AtomicFiles.fsync(tmp.resolve("text_encoder"), true);
        }
        writeOptimizer(unet, opt, tmp.resolve("optimizer.safetensors"));
        ObjectNode s = JSON.createObjectNode();
        s.put("step", step);
        s.put("data_position", dataPosition);
        // Data-parallel runs: how many ranks wrote it, and each rank's own cursor (rank r read stream positions
        // r, r+N, …); a resume with another number of ranks continues from data_position.
        s.put("world_size", rankPositions == null ? 1 : rankPositions.length);
        if (rankPositions != null && rankPositions.length > 1) {
          var a = s.putArray("data_positions");
          for (long p : rankPositions) a.add(p);
        }
        s.put("rng", "derived from (seed, step): nothing else to store");
        s.set("options", fixedOptions);
        if (scaler != null) {
          // fp16 loss scaling: torch's GradScaler.state_dict() (scale, growth tracker) and the skipped-step count.
          ObjectNode g = s.putObject("grad_scaler");
          g.put("scale", (double) scaler.scale());
          g.put("growth_tracker", scaler.growthTracker());
          s.put("skipped_steps", skippedSteps);
        }
        // settings (may be null): recorded for the reader, never compared on resume.
        if (settings != null) s.set("settings", settings);
        Files.write(tmp.resolve("state.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(s));
        files.add(tmp.resolve("optimizer.safetensors"));
        files.add(tmp.resolve("state.json"));
        for (Path f : files) AtomicFiles.fsync(f, false);
      });
      if (limit > 0) {
        List<Path> all = list(out);
        for (int k = 0; k < all.size() - limit; k++) Staging.deleteTree(all.get(k));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + step + " in " + out + ": " + e.getMessage(), e);
    }
  }

  /** {@code exp_avg/<param>}, {@code exp_avg_sq/<param>} and AdamW's step count as metadata {@code step}. */
  private static void writeOptimizer(Params params, AdamW opt, Path file) {
    SafetensorsWriter w = new SafetensorsWriter();
    int i = 0;
    for (Map.Entry<String, Tensor> e : params.named().entrySet()) {
      put(w, "exp_avg/" + e.getKey(), opt.expAvg(i));
      put(w, "exp_avg_sq/" + e.getKey(), opt.expAvgSq(i));
      i++;
    }
    w.putMetadata("step", Long.toString(opt.stepCount()));
    w.write(file);
  }

  /** The UNet's parameters as a diffusers {@code diffusion_pytorch_model.safetensors} (float32). */
  public static void writeParams(Map<String, Tensor> params, Path file) {
    SafetensorsWriter w = new SafetensorsWriter();
    for (Map.Entry<String, Tensor> e : params.entrySet()) put(w, e.getKey(), e.getValue());
    w.write(file);
  }

  private static void put(SafetensorsWriter w, String key, Tensor t) {
    try (TensorScope s = TensorScope.open()) {
      Tensor cpu = t.device().isCuda() ? t.to(Device.CPU) : t;
      w.putF32(key, cpu.contiguous().toFloatArray(), t.shape());
    }
  }

  /** Complete checkpoints (those with state.json), oldest first. */
  public static List<Path> list(Path out) throws IOException {
    Path root = dir(out);
    if (!Files.isDirectory(root)) return List.of();
    List<Path> r = new ArrayList<>();
    try (Stream<Path> s = Files.list(root)) {
      s.filter(p -> p.getFileName().toString().matches(PREFIX + "\\d+") && Files.isRegularFile(p.resolve("state.json")))
          .forEach(r::add);
    }
    r.sort(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(PREFIX.length()))));
    return r;
  }

  /** {@code latest} → newest checkpoint under {@code out} or null when there is none; otherwise the given folder. */
  public static Path resolve(Path out, String resume) {
    if (resume.equals("latest")) {
      try {
        List<Path> all = list(out);
        return all.isEmpty() ? null : all.get(all.size() - 1);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    Path p = Path.of(resume);
    if (!Files.isRegularFile(p.resolve("state.json")))
      throw new UserInputException("--resume " + resume + ": not a checkpoint folder (no state.json)");
    return p;
  }

  /**
   * Copies the checkpoint's UNet (and, when {@code te} is given, text encoder) weights and optimizer state, and the fp16
   * loss scaler's state when {@code scaler} is given, into the live objects; returns the rest. A checkpoint with a text
   * encoder needs {@code te} and one without refuses it.
   */
  public static State load(Path ckpt, Params unet, TrainableLora lora, AdamW opt, Ema ema, TextEncoder te,
      GradScaler scaler) {
    try {
      JsonNode s = JSON.readTree(ckpt.resolve("state.json").toFile());
      boolean hasLora = Files.isRegularFile(ckpt.resolve(LoraWriter.FILE_NAME));
      if (hasLora != (lora != null))
        throw new UserInputException("--resume " + ckpt + ": the checkpoint was written " + (hasLora ? "with" : "without")
            + " --lora-rank (LoRA adapters); resume with the same setting");
      boolean hasTe = Files.isRegularFile(ckpt.resolve(TEXT_ENCODER_OPTIMIZER));
      if (hasTe != (te != null))
        throw new UserInputException("--resume " + ckpt + ": the checkpoint was written " + (hasTe ? "with" : "without")
            + " --train-text-encoder; resume with the same setting");
      Path weights = hasLora ? ckpt.resolve(LoraWriter.FILE_NAME) : ckpt.resolve("unet/diffusion_pytorch_model.safetensors");
      if (lora != null) lora.load(weights); // checks every adapter's name and shape first (another rank: one line)
      loadInto(ckpt, weights, ckpt.resolve("optimizer.safetensors"), unet, opt);
      if (te != null)
        loadInto(ckpt, hasLora ? weights : ckpt.resolve("text_encoder/model.safetensors"),
            ckpt.resolve(TEXT_ENCODER_OPTIMIZER), te.params(), te.opt());
      if (ema != null) {
        Path f = ckpt.resolve(hasLora ? LORA_EMA : "unet_ema/diffusion_pytorch_model.safetensors");
        if (!Files.isRegularFile(f)) throw new UserInputException(ckpt + ": no " + ckpt.relativize(f) + " (the run had no --ema)");
        try (ModeGuard ng = Autograd.noGrad(); SafetensorsFile w = SafetensorsFile.open(f);
            TensorScope scope = TensorScope.open()) {
          for (Map.Entry<String, Tensor> e : ema.named().entrySet()) e.getValue().copyFrom(w.toTensor(e.getKey()));
        }
      }
      if (scaler != null) {
        JsonNode g = s.get("grad_scaler");
        if (g == null) throw new UserInputException(ckpt + ": no grad_scaler state (the run was not fp16)");
        if (!g.path("scale").isNumber() || !g.path("growth_tracker").isInt())
          throw new UserInputException(ckpt + "/state.json: grad_scaler needs a numeric scale and an integer growth_tracker");
        try {
          scaler.loadState((float) g.get("scale").asDouble(), g.get("growth_tracker").asInt());
        } catch (IllegalArgumentException e) {
          throw new UserInputException(ckpt + "/state.json: bad grad_scaler state: " + e.getMessage());
        }
      }
      int world = s.path("world_size").asInt(1);
      if (world < 1) throw new UserInputException(ckpt + "/state.json: world_size must be at least 1");
      JsonNode dp = s.get("data_positions");
      long[] ranks = null;
      if (dp != null) {
        if (!dp.isArray() || dp.size() != world)
          throw new UserInputException(ckpt + "/state.json: data_positions must list one cursor per rank (" + world + ")");
        ranks = new long[world];
        for (int i = 0; i < world; i++) ranks[i] = dp.get(i).asLong();
      }
      return new State(s.get("step").asLong(), s.get("data_position").asLong(), (ObjectNode) s.get("options"),
          s.path("skipped_steps").asLong(0), world, ranks);
    } catch (IOException e) {
      throw new UserInputException(ckpt + ": cannot read checkpoint: " + e.getMessage(), e);
    }
  }

  private static void loadInto(Path ckpt, Path weights, Path optimizer, Params params, AdamW opt) {
    try (ModeGuard ng = Autograd.noGrad();
        SafetensorsFile w = SafetensorsFile.open(weights);
        SafetensorsFile o = SafetensorsFile.open(optimizer);
        TensorScope scope = TensorScope.open()) {
      List<Tensor> m = new ArrayList<>(), v = new ArrayList<>();
      for (Map.Entry<String, Tensor> e : params.named().entrySet()) {
        if (!w.keys().contains(e.getKey()))
          throw new UserInputException(ckpt + ": checkpoint has no weight " + e.getKey());
        e.getValue().copyFrom(w.toTensor(e.getKey()));
        m.add(o.toTensor("exp_avg/" + e.getKey()));
        v.add(o.toTensor("exp_avg_sq/" + e.getKey()));
      }
      opt.loadState(Long.parseLong(o.metadata().get("step")), m, v);
    }
  }
}

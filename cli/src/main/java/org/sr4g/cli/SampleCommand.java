package org.sr4g.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.ModelSource;
import org.sr4g.diffusion.Precision;
import org.sr4g.diffusion.Txt2Img;
import org.sr4g.evaluation.EvalPrompt;
import org.sr4g.evaluation.PromptReader;
import org.sr4g.io.AtomicFiles;
import org.sr4g.io.Escape;
import org.sr4g.io.OutputRules;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sr4g sample}: text-to-image with a diffusers Stable Diffusion folder, resumable, one PNG per image. */
@Command(
    name = "sample",
    mixinStandardHelpOptions = true,
    header = "Generate images for a prompt file with a Stable Diffusion model folder (resumable).",
    description = "Text-to-image with classifier-free guidance, as diffusers' StableDiffusionPipeline, on a diffusers"
        + " folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/), a Hugging Face id from the"
        + " local cache or a single-file checkpoint, optionally with LoRA files. Writes"
        + " <unique_id>_<k>.png for k = 0..N-1 into --out; images already there are skipped, so an interrupted run"
        + " resumes where it stopped. Image k of a prompt is seeded from (--seed, unique_id, k) alone: a resumed or"
        + " partial run gives the same pixels as an uninterrupted one, and does not depend on --batch-size (images"
        + " sampled together share the UNet calls). Models: docs/diffusion.md.",
    footer = {
      "",
      "Examples:",
      "  sr4g sample --model sd-v1-5 --prompts text_spatial_rel_phrases.json \\",
      "      --out images --limit 100",
      "  sr4g sample --model sd-v1-5 --prompt 'a cat to the left of a dog' \\",
      "      --out images --images-per-prompt 2",
      "  sr4g sample --model runwayml/stable-diffusion-v1-5 \\",
      "      --lora pytorch_lora_weights.safetensors:0.8 --prompt 'a cat' --out images",
      "  sr4g sample --model v1-5-pruned-emaonly.safetensors --prompt 'a cat' \\",
      "      --out images"
    })
final class SampleCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin ModelOptions model;
  @Option(names = "--lora", paramLabel = "FILE[:SCALE]",
      description = "apply a LoRA file (diffusers, PEFT or kohya layout) with this scale (default 1); repeatable")
  List<String> loras;
  @Option(names = "--prompts", paramLabel = "FILE",
      description = "prompts with unique_id and text: sr4g generate's JSONL or VISOR's JSON") Path prompts;
  @Option(names = "--prompt", paramLabel = "TEXT", description = "one prompt (unique_id 0) instead of --prompts")
  String prompt;
  @Option(names = "--out", required = true, paramLabel = "DIR",
      description = "image folder (created; an earlier sample run there is resumed)") Path out;
  @Option(names = "--images-per-prompt", defaultValue = "4", paramLabel = "N", description = "default: ${DEFAULT-VALUE}")
  int perPrompt;
  @Option(names = "--limit", paramLabel = "N", description = "only the first N prompts of the file (default: all)")
  Integer limit;
  @Option(names = "--steps", defaultValue = "50", paramLabel = "N", description = "denoising steps (default: ${DEFAULT-VALUE})")
  int steps;
  @Option(names = "--guidance", defaultValue = "7.5", paramLabel = "G",
      description = "classifier-free guidance scale (default: ${DEFAULT-VALUE})") double guidance;
  @Option(names = "--negative-prompt", defaultValue = "", paramLabel = "TEXT",
      description = "the unconditional prompt (default: empty)") String negative;
  @Option(names = "--width", paramLabel = "PX", description = "default: the model's sample_size x VAE factor (512 for SD 1.5)")
  Integer width;
  @Option(names = "--height", paramLabel = "PX", description = "default: the model's sample_size x VAE factor") Integer height;
  @Option(names = "--batch-size", defaultValue = "1", paramLabel = "B",
      description = "images per UNet call (batch 2B with guidance); an image does not depend on its batch (default: ${DEFAULT-VALUE})")
  int batchSize;
  @Mixin AttentionOption attention;
  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "default: ${DEFAULT-VALUE}") long seed;
  @Option(names = "--clip-skip", defaultValue = "1", paramLabel = "N",
      description = "1: last text-encoder layer (SD 1.x), 2: penultimate (SD 2.x) (default: ${DEFAULT-VALUE})") int clipSkip;
  @Mixin DeviceOption device;
  @Option(names = "--dtype", defaultValue = "f32", paramLabel = "T", converter = WeightType.Converter.class,
      description = "parameter dtype: f32, f16 (CUDA only) or bf16 (CUDA; CPU where libtorch supports it) (default:"
          + " ${DEFAULT-VALUE})") WeightType dtype;

  private record Job(int uniqueId, String text, int k, Path file) {}

  @Override
  public Integer call() throws IOException {
    if ((prompts == null) == (prompt == null)) throw new UserInputException("give exactly one of --prompts and --prompt");
    if (perPrompt < 1) throw new UserInputException("--images-per-prompt must be at least 1");
    if (limit != null && limit < 1) throw new UserInputException("--limit must be at least 1");
    if (batchSize < 1) throw new UserInputException("--batch-size must be at least 1");
    OutputRules.checkFolder(out, false, true, List.of()); // an sr4g output to continue, an empty folder or nothing
    attention.apply();
    Device dev = device.device();
    DType dt = dtype.dtype();
    Precision.require(dt, dev); // before any work: a refused dtype is an error at once
    List<EvalPrompt> list = prompts != null ? PromptReader.read(prompts, Set.of()).all()
        : List.of(new EvalPrompt(0, 1, prompt, null, "", prompt, null, false));
    if (limit != null && limit < list.size()) list = list.subList(0, limit);
    List<Job> todo = new ArrayList<>();
    int present = 0;
    for (EvalPrompt p : list) {
      if (p.text() == null || p.text().isBlank())
        throw new UserInputException((prompts != null ? prompts : "--prompt") + ": prompt unique_id " + p.uniqueId()
            + " has no text");
    }
    for (EvalPrompt p : list)
      for (int k = 0; k < perPrompt; k++) {
        Path f = out.resolve(p.uniqueId() + "_" + k + ".png");
        if (Files.isRegularFile(f) && Files.size(f) > 0) present++;
        else todo.add(new Job(p.uniqueId(), p.text(), k, f));
      }
    PrintWriter o = spec.commandLine().getOut();
    if (todo.isEmpty()) {
      o.println("nothing to do: all " + present + " images already in " + out);
      o.flush();
      return 0;
    }
    DiffusersModel loaded;
    // The source (file mappings, LoRA tensors) is closed once the model holds its own copies of the weights.
    try (ModelSource source = model.open(loras, o)) {
      loaded = DiffusersModel.load(source, dev, dt);
    }
    try (DiffusersModel m = loaded) {
      m.packForInference(); // inference only: conv weights packed once for oneDNN on the CPU
      int w = width != null ? width : m.defaultResolution(), h = height != null ? height : m.defaultResolution();
      Txt2Img pipe = new Txt2Img(m, dev);
      int done = 0;
      OutputRules.createResumable(out, "sample"); // now: a refused model or prompt left nothing behind
      for (int from = 0; from < todo.size(); from += batchSize) {
        List<Job> jobs = todo.subList(from, Math.min(todo.size(), from + batchSize));
        List<Txt2Img.Request> requests = new ArrayList<>();
        for (Job j : jobs)
          requests.add(new Txt2Img.Request(j.text(), negative, w, h, steps, guidance, imageSeed(seed, j.uniqueId(), j.k()),
              clipSkip));
        List<BufferedImage> images = pipe.generate(requests);
        for (int i = 0; i < jobs.size(); i++) {
          Job j = jobs.get(i);
          // Write then rename: a killed run never leaves a truncated PNG that a resume would take as done.
          BufferedImage image = images.get(i);
          AtomicFiles.write(j.file(), png -> ImageIO.write(image, "png", png));
          done++;
          o.println("[" + done + "/" + todo.size() + "] " + j.file().getFileName() + "  " + Escape.text(j.text()));
          o.flush();
        }
      }
    }
    o.println("wrote " + todo.size() + " images to " + out + (present > 0 ? " (" + present + " already there)" : ""));
    o.flush();
    return 0;
  }

  /** A per-image seed from (seed, unique_id, k) only (SplitMix64 finaliser), so resumes reproduce the same images. */
  static long imageSeed(long seed, int uniqueId, int k) {
    long z = seed * 0x9E3779B97F4A7C15L + ((long) uniqueId << 20) + k;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}

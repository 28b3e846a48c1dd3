package org.sr4g.diffusion.singlefile;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.ModelSource;
import org.sr4g.diffusion.PipelineConfigs;
import org.sr4g.diffusion.PipelineSpec;
import org.sr4g.diffusion.models.AutoencoderKlConfig;
import org.sr4g.diffusion.models.AutoencoderKl;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.models.Weights;
import org.sr4g.diffusion.schedulers.SchedulerConfig;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;
import org.sr4g.hub.HfCache;

/**
 * A single-file Stable Diffusion 1.x / 2.x checkpoint in the original LDM layout ({@code v1-5-pruned-emaonly.safetensors},
 * {@code v2-1_768-ema-pruned.safetensors}, most community fine-tunes), converted on load as diffusers'
 * {@code from_single_file} does: the family is detected from the tensors (the cross-attention width: 768 → SD 1.x,
 * 1024 → SD 2.x), its configs are built in ({@link PipelineConfigs}), and every parameter is read from its LDM key
 * ({@link LdmKeys}) when the model loads it. Nothing is copied to disk.
 *
 * <ul>
 *   <li><b>Prediction type.</b> SD 1.x: epsilon. SD 2.x: the file's {@code modelspec.prediction_type} metadata when
 *       present, else epsilon for the 512 px base model's training step (global_step 875000, known only from
 *       {@code .ckpt} files), else v_prediction (the 768 px model), as diffusers decides; {@code --prediction-type}
 *       overrides it (and a contradiction with the file's own metadata is refused by {@code ModelChecks}).
 *   <li><b>EMA.</b> A file with a separate EMA copy ({@code model_ema.*}, as in the non-pruned releases) loads its
 *       regular weights unless {@link Options#extractEma()} (diffusers' {@code extract_ema}); a file with only the EMA
 *       copy loads that; "-emaonly" files already hold the EMA weights under {@code model.diffusion_model.*}.
 *   <li><b>Tokenizer.</b> A single file has none: {@link Options#tokenizer()}, else a {@code tokenizer/} folder (or
 *       {@code vocab.json} + {@code merges.txt}) beside the file, else the Hugging Face cache
 *       ({@link TokenizerLookup}); the pad token is the family's.
 *   <li><b>Refused</b> with one line: SDXL, inpainting (9 input channels) and other architectures; leftover tensors
 *       under the UNet/VAE/text-encoder prefixes that no parameter uses (another architecture).
 *   <li><b>{@code .ckpt}</b> (and {@code .pt}, {@code .pth}, {@code .bin}): PyTorch zip checkpoints, read by the
 *       restricted unpickler of the {@code pytorch} package (never executing anything from the file; a hostile pickle
 *       is one line); the state dict is the file's {@code state_dict} entry (Lightning) or its top-level dict, and its
 *       {@code global_step} is kept ({@link #globalStep()}).
 * </ul>
 */
public final class SingleFileSource implements ModelSource {

  /**
   * @param predictionType {@code epsilon} / {@code v_prediction}, or null to detect
   * @param extractEma load the {@code model_ema.*} copy when the file has both
   * @param tokenizer a folder with {@code vocab.json} and {@code merges.txt}, or null to look for one
   * @param configs the pipeline's configs, or null to detect SD 1.x / 2.x (tests use the tiny model's)
   * @param cache where {@link TokenizerLookup} looks for a tokenizer
   */
  public record Options(String predictionType, boolean extractEma, Path tokenizer, PipelineConfigs configs,
      HfCache cache) {
    public static Options defaults() {
      return new Options(null, false, null, null, HfCache.fromEnvironment());
    }
  }

  private final Path file;
  private final RawCheckpoint raw;
  private final PipelineConfigs configs;
  private final String declaredPrediction;
  /** Null while the constructor builds it. */
  private final PipelineSpec spec;
  private final Map<Part, LdmWeights> weights = new LinkedHashMap<>();
  private final List<String> notes = new ArrayList<>();

  private SingleFileSource(Path file, RawCheckpoint raw, Options o) {
    this.file = file;
    this.raw = raw;
    Weights w = raw.tensors();
    refuseOtherArchitectures(w);
    this.declaredPrediction = metadataPrediction(raw.metadata());
    this.configs = o.configs() != null
        ? withPrediction(o.configs(), o.predictionType() != null ? o.predictionType() : declaredPrediction)
        : detect(w, o);
    UNetConfig unet = UNetConfig.fromJson(configs.unet(), origin(Part.UNET));
    AutoencoderKlConfig vae = AutoencoderKlConfig.fromJson(configs.vae(), origin(Part.VAE));
    ClipTextConfig text = ClipTextConfig.fromJson(configs.textEncoder(), origin(Part.TEXT_ENCODER));
    SchedulerConfig scheduler = SchedulerConfig.fromJson(configs.scheduler(), origin(Part.SCHEDULER));
    TokenizerLookup.Found t = TokenizerLookup.find(file, o.tokenizer(), o.cache(), configs.textEncoder().path("hidden_size").asInt() == 1024);
    ClipTokenizer tok = ClipTokenizer.fromFolder(t.dir());
    int pad = tok.id(configs.padToken());
    this.spec = new PipelineSpec(unet, vae, text, scheduler, pad < 0 ? tok : tok.withPadId(pad), t.dir());
    mapWeights(w, o.extractEma());
  }

  /**
   * Opens {@code file}: a {@code .safetensors} file or a PyTorch zip checkpoint ({@code .ckpt}/{@code .pt}/{@code .pth}/
   * {@code .bin}, read as data only). Problems (unknown layout, missing or leftover tensors, no tokenizer, a pickle
   * that is not plain data) are one {@link UserInputException}.
   */
  public static SingleFileSource open(Path file, Options options) {
    RawCheckpoint raw = RawCheckpoint.open(file);
    try {
      return new SingleFileSource(file, raw, options);
    } catch (RuntimeException e) {
      raw.close();
      throw e;
    }
  }

  /** Whether {@code path} names a file sr4g would read as a single-file checkpoint (by its extension). */
  public static boolean isCheckpointFile(Path path) {
    String n = path.getFileName().toString().toLowerCase(Locale.ROOT);
    return Files.isRegularFile(path) && (n.endsWith(".safetensors") || RawCheckpoint.isPickle(n));
  }

  /** The checkpoint's {@code global_step} ({@code .ckpt} files from Lightning store it), or null. */
  public Long globalStep() {
    return raw.globalStep();
  }

  /** What was detected and chosen (family, prediction type, EMA, tokenizer), one line each, for the user. */
  public List<String> notes() {
    return List.copyOf(notes);
  }

  /** The configs the file was converted with. */
  public PipelineConfigs configs() {
    return configs;
  }

  private static void refuseOtherArchitectures(Weights w) {
    Set<String> keys = w.keys();
    String f = w.source();
    if (keys.stream().anyMatch(k -> k.startsWith("conditioner.embedders.")))
      throw new UserInputException(f + ": an SDXL checkpoint (conditioner.embedders.*); only SD 1.x and 2.x are supported");
    String conv = present(w, LdmKeys.UNET_PREFIX + "input_blocks.0.0.weight");
    if (!keys.contains(conv)) {
      boolean diffusers = keys.contains("conv_in.weight") || keys.contains("down_blocks.0.resnets.0.conv1.weight");
      throw new UserInputException(f + ": not an SD 1.x/2.x checkpoint in the original layout (no " + conv + ")"
          + (diffusers ? "; it looks like one diffusers component: give the diffusers folder instead" : ""));
    }
    long[] s = w.shape(conv);
    if (s.length != 4 || s[1] != 4)
      throw new UserInputException(f + ": the UNet takes " + (s.length > 1 ? s[1] : 0) + " input channels"
          + (s.length > 1 && s[1] == 9 ? " (an inpainting checkpoint)" : "") + "; only 4-channel text-to-image models are supported");
  }

  /** An LDM UNet key, or its EMA copy when only that is in the file (EMA-only files). */
  private static String present(Weights w, String ldmUnetKey) {
    return w.keys().contains(ldmUnetKey) || !w.keys().contains(LdmKeys.ema(ldmUnetKey)) ? ldmUnetKey : LdmKeys.ema(ldmUnetKey);
  }

  /** SD 1.x or 2.x from the cross-attention width, with the prediction type decided as the class comment says. */
  private PipelineConfigs detect(Weights w, Options o) {
    String toK = present(w, LdmKeys.UNET_PREFIX + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight");
    long width = w.keys().contains(toK) ? w.shape(toK)[w.shape(toK).length - 1] : -1;
    if (width == 768) {
      notes.add("SD 1.x checkpoint (768-wide text conditioning)");
      return withPrediction(PipelineConfigs.sd15(), o.predictionType() != null ? o.predictionType() : declaredPrediction);
    }
    if (width != 1024)
      throw new UserInputException(w.source() + ": cannot tell the model family (" + toK
          + (width < 0 ? " missing" : " is " + width + " wide") + "; SD 1.x has 768, SD 2.x 1024)");
    String prediction = o.predictionType();
    String why = "--prediction-type";
    if (prediction == null && declaredPrediction != null) {
      prediction = declaredPrediction;
      why = "the file's modelspec.prediction_type";
    } else if (prediction == null && raw.globalStep() != null && raw.globalStep() == 875000) {
      prediction = "epsilon";
      why = "global_step 875000: the 512 px base model";
    } else if (prediction == null) {
      prediction = "v_prediction";
      why = "the default for SD 2.x, as diffusers; pass --prediction-type epsilon for a 512 px base model";
    }
    PipelineConfigs c = PipelineConfigs.sd21(prediction.equals("v_prediction"));
    notes.add("SD 2.x checkpoint (1024-wide text conditioning), " + prediction + " (" + why + ")");
    return c;
  }

  private static PipelineConfigs withPrediction(PipelineConfigs c, String predictionType) {
    return predictionType == null ? c : c.withPredictionType(predictionType);
  }

  /** {@code modelspec.prediction_type} ("epsilon" or "v", SAI's model spec as kohya's sd-scripts write it). */
  private static String metadataPrediction(Map<String, String> metadata) {
    String p = metadata.get("modelspec.prediction_type");
    if (p == null) return null;
    return switch (p) {
      case "v", "v_prediction" -> "v_prediction";
      case "epsilon" -> "epsilon";
      default -> null;
    };
  }

  private void mapWeights(Weights w, boolean extractEma) {
    Set<String> keys = w.keys();
    long ema = keys.stream().filter(k -> k.startsWith(LdmKeys.EMA_PREFIX)).count();
    boolean regular = keys.stream().anyMatch(k -> k.startsWith(LdmKeys.UNET_PREFIX + "output_blocks."));
    boolean useEma = ema > 100 && (extractEma || !regular);
    if (ema > 100 && regular)
      notes.add(useEma ? "UNet: the EMA weights (model_ema.*, --extract-ema)"
          : "UNet: the regular weights; the file also has EMA weights (model_ema.*), which --extract-ema loads");
    else if (extractEma)
      notes.add("UNet: no separate EMA weights (model_ema.*) in the file; an -emaonly file already holds them");
    else if (useEma) notes.add("UNet: the file holds only EMA weights (model_ema.*)");

    Map<String, LdmWeights.Source> unet = new LinkedHashMap<>();
    for (String k : UNet2DConditionModel.LOADER.parameterShapes(spec.unet()).keySet()) {
      String ldm = LdmKeys.unet(k, spec.unet());
      unet.put(k, new LdmWeights.Source(useEma && ldm != null ? LdmKeys.ema(ldm) : ldm, -1, false));
    }
    Map<String, LdmWeights.Source> vae = new LinkedHashMap<>();
    int blocks = spec.vae().blockOutChannels().size();
    for (String k : AutoencoderKl.LOADER.parameterShapes(spec.vae()).keySet())
      vae.put(k, new LdmWeights.Source(LdmKeys.vae(k, blocks), -1, LdmKeys.vaeConvToLinear(k)));
    Map<String, LdmWeights.Source> text = new LinkedHashMap<>();
    boolean openClip = keys.stream().anyMatch(k -> k.startsWith(LdmKeys.OPEN_CLIP_PREFIX));
    boolean textModelLevel = keys.stream().anyMatch(k -> k.startsWith(LdmKeys.CLIP_PREFIX + "text_model."));
    for (String k : ClipTextModel.LOADER.parameterShapes(spec.textEncoder()).keySet()) {
      if (openClip) {
        LdmKeys.OpenClipKey o = LdmKeys.openClip(k);
        text.put(k, new LdmWeights.Source(o == null ? null : o.key(), o == null ? -1 : o.third(), false));
      } else {
        text.put(k, new LdmWeights.Source(LdmKeys.clip(k, textModelLevel), -1, false));
      }
    }
    List<String> problems = new ArrayList<>();
    Set<String> used = new LinkedHashSet<>();
    weights.put(Part.UNET, view(w, "unet", unet, problems, used));
    weights.put(Part.VAE, view(w, "vae", vae, problems, used));
    weights.put(Part.TEXT_ENCODER, view(w, "text_encoder", text, problems, used));
    for (String k : new TreeSet<>(keys))
      if (!used.contains(k) && leftover(k, openClip, spec.textEncoder().numLayers(), useEma))
        problems.add("unexpected " + k + " " + java.util.Arrays.toString(w.shape(k)));
    if (!problems.isEmpty()) {
      int shown = Math.min(problems.size(), 12);
      throw new UserInputException(file + ": does not fit the " + configs.name() + " layout: " + problems.size()
          + " problem(s): " + String.join("; ", problems.subList(0, shown))
          + (problems.size() > shown ? "; … and " + (problems.size() - shown) + " more" : ""));
    }
  }

  private LdmWeights view(Weights w, String part, Map<String, LdmWeights.Source> map, List<String> problems,
      Set<String> used) {
    Map<String, LdmWeights.Source> present = new LinkedHashMap<>();
    for (Map.Entry<String, LdmWeights.Source> e : map.entrySet()) {
      String ldm = e.getValue().ldmKey();
      if (ldm == null) problems.add(part + " " + e.getKey() + " has no LDM counterpart");
      else if (!w.keys().contains(ldm)) problems.add("missing " + ldm + " (" + part + " " + e.getKey() + ")");
      else {
        present.put(e.getKey(), e.getValue());
        used.add(ldm);
      }
    }
    return new LdmWeights(w, file + " (" + part + ", LDM layout)", present);
  }

  /**
   * A tensor nobody reads that signals another architecture: under the UNet, VAE or text-encoder prefixes, except
   * what real checkpoints carry besides the weights (CLIP's position_ids, OpenCLIP's projection, logit scale and the
   * last layer SD 2.x skips, the VAE's training loss, the other copy of the UNet when EMA is chosen or not).
   */
  private static boolean leftover(String k, boolean openClip, int textLayers, boolean useEma) {
    if (k.endsWith(".position_ids") || k.startsWith(LdmKeys.VAE_PREFIX + "loss.")) return false;
    if (k.startsWith(LdmKeys.EMA_PREFIX)) return false;
    if (k.startsWith(LdmKeys.UNET_PREFIX)) return !useEma;
    if (k.startsWith(LdmKeys.VAE_PREFIX)) return true;
    if (openClip && k.startsWith(LdmKeys.OPEN_CLIP_PREFIX)) {
      String rest = k.substring(LdmKeys.OPEN_CLIP_PREFIX.length());
      if (rest.equals("text_projection") || rest.equals("logit_scale") || rest.equals("attn_mask")) return false;
      if (rest.startsWith("transformer.resblocks.")) {
        String n = rest.substring("transformer.resblocks.".length()).split("\\.")[0];
        return !n.matches("\\d+") || Integer.parseInt(n) < textLayers;
      }
      return true;
    }
    return k.startsWith(LdmKeys.CLIP_PREFIX);
  }

  @Override
  public String name() {
    return file.toString();
  }

  @Override
  public String origin(Part part) {
    if (part == Part.TOKENIZER) return spec == null ? "the tokenizer" : spec.tokenizerDir().resolve("vocab.json").toString();
    return "the built-in " + (configs == null ? "" : configs.name() + " ") + part.folder + " config for " + file.getFileName();
  }

  @Override
  public JsonNode config(Part part) {
    return switch (part) {
      case UNET -> configs.unet();
      case VAE -> configs.vae();
      case TEXT_ENCODER -> configs.textEncoder();
      case SCHEDULER -> configs.scheduler();
      case TOKENIZER -> throw new IllegalArgumentException("the tokenizer has no config here");
    };
  }

  @Override
  public PipelineSpec spec() {
    return spec;
  }

  @Override
  public Weights weights(Part part) {
    Weights w = weights.get(part);
    if (w == null) throw new IllegalArgumentException(part + " has no weights");
    return w;
  }

  @Override
  public String declaredPredictionType() {
    return declaredPrediction;
  }

  @Override
  public String declaredPredictionOrigin() {
    return file + "'s modelspec.prediction_type metadata";
  }

  @Override
  public void close() {
    raw.close();
  }
}

package org.sr4g.diffusion.singlefile;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;

/**
 * Builds a single-file LDM checkpoint from a diffusers folder by renaming every tensor to its LDM key (and fusing
 * OpenCLIP's q/k/v, unsqueezing the VAE's attention weights to 1×1 convolutions), plus the extra tensors real
 * checkpoints carry that no parameter uses.
 */
public final class LdmFixture {
  private LdmFixture() {}

  /** Options of a built file. */
  public record Layout(boolean openClip, boolean emaCopy, boolean regular, Map<String, String> metadata) {
    public static Layout sd1() {
      return new Layout(false, false, true, Map.of());
    }
  }

  public static Path write(ModelFolder folder, Path out, Layout layout) {
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile unet = SafetensorsFile.open(folder.unetWeights());
        SafetensorsFile vae = SafetensorsFile.open(folder.vaeWeights());
        SafetensorsFile text = SafetensorsFile.open(folder.textEncoderWeights())) {
      for (String k : unet.keys()) {
        String ldm = LdmKeys.unet(k, folder.unetConfig());
        float[] v = unet.readFloats(k);
        if (layout.regular()) w.putF32(ldm, v, unet.info(k).shape());
        // The EMA copy differs from the regular weights (×0.5), so a test can tell which one was loaded.
        if (layout.emaCopy()) w.putF32(LdmKeys.ema(ldm), scaled(v, 0.5f), unet.info(k).shape());
      }
      int blocks = folder.vaeConfig().blockOutChannels().size();
      for (String k : vae.keys()) {
        long[] s = vae.info(k).shape();
        if (LdmKeys.vaeConvToLinear(k)) s = new long[] {s[0], s[1], 1, 1};
        w.putF32(LdmKeys.vae(k, blocks), vae.readFloats(k), s);
      }
      Map<String, float[][]> fused = new HashMap<>();
      for (String k : text.keys()) {
        if (!layout.openClip()) {
          w.putF32(LdmKeys.clip(k, true), text.readFloats(k), text.info(k).shape());
          continue;
        }
        LdmKeys.OpenClipKey o = LdmKeys.openClip(k);
        if (o.third() < 0) w.putF32(o.key(), text.readFloats(k), text.info(k).shape());
        else fused.computeIfAbsent(o.key(), x -> new float[3][])[o.third()] = text.readFloats(k);
      }
      for (Map.Entry<String, float[][]> e : fused.entrySet()) {
        float[][] p = e.getValue();
        float[] all = new float[p[0].length * 3];
        for (int i = 0; i < 3; i++) System.arraycopy(p[i], 0, all, i * p[0].length, p[0].length);
        long d = folder.textEncoderConfig().hiddenSize();
        long[] shape = e.getKey().endsWith("weight") ? new long[] {3 * d, d} : new long[] {3 * d};
        w.putF32(e.getKey(), all, shape);
      }
      if (layout.openClip()) {
        long d = folder.textEncoderConfig().hiddenSize();
        // SD 2.x files hold the 24th layer that the 23-layer text encoder skips, the projection and the logit scale.
        String extra = LdmKeys.OPEN_CLIP_PREFIX + "transformer.resblocks." + folder.textEncoderConfig().numLayers() + ".";
        w.putF32(extra + "ln_1.weight", new float[(int) d], d);
        w.putF32(LdmKeys.OPEN_CLIP_PREFIX + "text_projection", new float[(int) (d * d)], d, d);
        w.putF32(LdmKeys.OPEN_CLIP_PREFIX + "logit_scale", new float[] {4.6f});
      } else {
        w.putI64(LdmKeys.CLIP_PREFIX + "text_model.embeddings.position_ids", new long[77], 1, 77);
      }
    }
    w.putF32("alphas_cumprod", new float[1000], 1000); // LatentDiffusion's buffers
    if (layout.emaCopy()) w.putF32("model_ema.decay", new float[] {0.9999f});
    layout.metadata().forEach(w::putMetadata);
    w.write(out);
    return out;
  }

  static float[] scaled(float[] v, float f) {
    float[] r = Arrays.copyOf(v, v.length);
    for (int i = 0; i < r.length; i++) r[i] *= f;
    return r;
  }
}

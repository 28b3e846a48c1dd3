package org.sr4g.detection.image;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.ConfigJson;

/**
 * {@code OwlViTImageProcessor} as {@code preprocessor_config.json} configures it: a stretch to {@code size} with
 * Pillow's bicubic filter ({@link PilBicubic}; no centre crop, the aspect ratio is not kept), rescale (each uint8
 * times {@code rescale_factor} in double, stored as float32, as numpy computes it), then {@code (x − mean) / std} in
 * float32, channels first. Options the processor has but OWL-ViT's checkpoints do not use (centre crop, another
 * resampling filter) are refused by name rather than ignored.
 */
public record ImageProcessor(int width, int height, boolean doResize, boolean doRescale, double rescaleFactor,
    boolean doNormalize, float[] mean, float[] std) {

  /** OpenAI CLIP's mean and std, transformers' defaults for OWL-ViT. */
  public static final List<Double> CLIP_MEAN = List.of(0.48145466, 0.4578275, 0.40821073);
  public static final List<Double> CLIP_STD = List.of(0.26862954, 0.26130258, 0.27577711);

  /** transformers' OwlViTImageProcessor defaults for a model of {@code imageSize} pixels. */
  public static ImageProcessor defaults(int imageSize) {
    return new ImageProcessor(imageSize, imageSize, true, true, 1 / 255.0, true, floats(CLIP_MEAN), floats(CLIP_STD));
  }

  public static ImageProcessor read(Path file) {
    if (!Files.isRegularFile(file)) throw new UserInputException(file + ": missing");
    ConfigJson c = ConfigJson.read(file);
    String type = c.string("image_processor_type", c.string("feature_extractor_type", "OwlViTImageProcessor"));
    if (!type.startsWith("OwlViT"))
      throw new UserInputException(file + ": " + type + " is not OWL-ViT v1's image processor"
          + (type.startsWith("Owlv2") ? " (OWLv2 pads to a square: a documented next step, docs/detection.md)" : ""));
    if (c.bool("do_center_crop", false)) throw new UserInputException(file + ": do_center_crop true is not supported");
    int resample = c.integer("resample", 3);
    if (resample != 3) throw new UserInputException(file + ": resample " + resample + " is not supported (3 = bicubic)");
    int w, h;
    if (c.node("size") != null && c.node("size").isObject()) {
      ConfigJson s = c.object("size");
      h = s.integer("height");
      w = s.integer("width");
    } else {
      w = h = c.integer("size", 768);
    }
    if (w < 1 || h < 1) throw new UserInputException(file + ": size " + w + "×" + h);
    float[] mean = floats(c, "image_mean", CLIP_MEAN), std = floats(c, "image_std", CLIP_STD);
    for (float s : std) if (!(s > 0)) throw new UserInputException(file + ": image_std must be positive");
    return new ImageProcessor(w, h, c.bool("do_resize", true), c.bool("do_rescale", true),
        c.number("rescale_factor", 1 / 255.0), c.bool("do_normalize", true), mean, std);
  }

  private static float[] floats(ConfigJson c, String key, List<Double> dflt) {
    if (!c.has(key)) return floats(dflt);
    var n = c.node(key);
    if (!n.isArray() || n.size() != 3) throw c.bad(key, "a list of 3 numbers");
    float[] out = new float[3];
    for (int i = 0; i < 3; i++) {
      if (!n.get(i).isNumber()) throw c.bad(key, "a list of 3 numbers");
      out[i] = (float) n.get(i).doubleValue();
    }
    return out;
  }

  private static float[] floats(List<Double> v) {
    float[] out = new float[v.size()];
    for (int i = 0; i < out.length; i++) out[i] = v.get(i).floatValue();
    return out;
  }

  /** The uint8 image the model sees (after the resize). */
  public RgbImage resized(RgbImage image) {
    if (!doResize) {
      if (image.width() != width || image.height() != height)
        throw new UserInputException("do_resize is false but the image is " + image.width() + "×" + image.height()
            + ", not " + width + "×" + height);
      return image;
    }
    return PilBicubic.resize(image, width, height);
  }

  /** Writes the pixel values of {@code image} as [3, height, width] float32 into {@code out} from {@code offset}. */
  public void pixelValues(RgbImage image, float[] out, int offset) {
    byte[] px = resized(image).rgb();
    int plane = width * height;
    for (int i = 0; i < plane; i++)
      for (int c = 0; c < 3; c++) {
        int u = px[i * 3 + c] & 0xff;
        float x = doRescale ? (float) (u * rescaleFactor) : u;
        out[offset + c * plane + i] = doNormalize ? (x - mean[c]) / std[c] : x;
      }
  }
}

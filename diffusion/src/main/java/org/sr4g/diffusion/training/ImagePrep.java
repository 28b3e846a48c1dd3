package org.sr4g.diffusion.training;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.sr4g.UserInputException;
import org.sr4g.io.Escape;

/**
 * Decoding and the geometric preprocessing of diffusers' train_text_to_image.py, in plain Java so that it is the same
 * on every machine: resize so the shorter side equals the resolution (bilinear, half-pixel centres as PIL/torchvision
 * without antialias), crop a square (centre, or a given offset for random crops), optional mirror, and scale
 * 8-bit RGB to [-1, 1] as {@code Normalize([0.5], [0.5])}. Output is CHW float32.
 */
public final class ImagePrep {
  private ImagePrep() {}

  /** Pillow's {@code Image.MAX_IMAGE_PIXELS}: larger images are refused before decoding ({@code --max-image-pixels}). */
  public static final long DEFAULT_MAX_PIXELS = 89_478_485L;

  /** {@link #decode(Path, long)} with the default pixel limit. */
  public static BufferedImage decode(Path file) {
    return decode(file, DEFAULT_MAX_PIXELS);
  }

  /**
   * Decoded image, or null when the file is missing, not an image ImageIO can read, or damaged (the decoder warned,
   * e.g. a JPEG cut short, which ImageIO would otherwise return half grey): a counted skip. The size is read from the
   * header first: an image of more than {@code maxPixels} pixels (a decompression bomb: a small PNG can declare
   * 20000×20000) is a {@link UserInputException}, and nothing is allocated for it.
   */
  public static BufferedImage decode(Path file, long maxPixels) {
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      if (in == null) return null;
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) return null;
      ImageReader r = readers.next();
      try {
        r.setInput(in, true, true);
        long w = r.getWidth(0), h = r.getHeight(0);
        if (w * h > maxPixels)
          throw new UserInputException(Escape.text(file.toString()) + ": image of " + w + "x" + h + " = " + w * h
              + " pixels exceeds --max-image-pixels " + maxPixels + " (a decompression bomb? raise the limit if the"
              + " image is genuine)");
        boolean[] damaged = {false};
        r.addIIOReadWarningListener((reader, warning) -> damaged[0] = true);
        BufferedImage img = r.read(0);
        return damaged[0] ? null : img;
      } finally {
        r.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof UserInputException u) throw u;
      return null;
    }
  }

  /** Size after resizing the shorter side to {@code res}: {width, height}. */
  public static int[] resizedSize(int w, int h, int res) {
    if (w <= h) return new int[] {res, Math.max(res, (int) Math.round((double) h * res / w))};
    return new int[] {Math.max(res, (int) Math.round((double) w * res / h)), res};
  }

  /**
   * @param cropX0 crop origin in the resized image (0 .. resizedWidth − res), cropY0 likewise
   */
  public static float[] prepare(BufferedImage img, int res, int cropX0, int cropY0, boolean flip) {
    int w = img.getWidth(), h = img.getHeight();
    int[] rs = resizedSize(w, h, res);
    int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
    float[] out = new float[3 * res * res];
    int plane = res * res;
    double sx = (double) w / rs[0], sy = (double) h / rs[1];
    for (int oy = 0; oy < res; oy++) {
      double fy = Math.max(0, (oy + cropY0 + 0.5) * sy - 0.5);
      int y0 = Math.min((int) fy, h - 1), y1 = Math.min(y0 + 1, h - 1);
      double wy = fy - y0;
      for (int ox = 0; ox < res; ox++) {
        int srcX = flip ? res - 1 - ox : ox;
        double fx = Math.max(0, (srcX + cropX0 + 0.5) * sx - 0.5);
        int x0 = Math.min((int) fx, w - 1), x1 = Math.min(x0 + 1, w - 1);
        double wx = fx - x0;
        int p00 = rgb[y0 * w + x0], p01 = rgb[y0 * w + x1], p10 = rgb[y1 * w + x0], p11 = rgb[y1 * w + x1];
        int i = oy * res + ox;
        for (int c = 0; c < 3; c++) {
          int shift = 16 - 8 * c;
          double v = (1 - wy) * ((1 - wx) * ((p00 >> shift) & 255) + wx * ((p01 >> shift) & 255))
              + wy * ((1 - wx) * ((p10 >> shift) & 255) + wx * ((p11 >> shift) & 255));
          out[c * plane + i] = (float) (v / 127.5 - 1.0);
        }
      }
    }
    return out;
  }
}

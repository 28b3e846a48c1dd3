package org.sr4g.detection.image;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.sr4g.UserInputException;

/**
 * Decodes a PNG or JPEG file into 8-bit RGB exactly as Pillow's {@code Image.open(f).convert("RGB")} does (what the
 * OWL-ViT processor sees), after checking the size its header declares: an image over {@link #MAX_PIXELS} is refused
 * before any pixel is decoded (the size check lives here alone).
 *
 * <p>PNG (the IHDR's colour type and bit depth decide, as Pillow's PNG plugin does; alpha, tRNS and gAMA are
 * ignored, as {@code convert("RGB")} ignores them):
 * <ul>
 *   <li>grey 1/2/4-bit: each sample scaled to 0..255 (×255, ×85, ×17), R = G = B;
 *   <li>grey 8-bit: R = G = B = the sample; <b>grey 16-bit: the sample clipped to 255</b> (Pillow opens it as a 32-bit
 *       integer image, and converting that to RGB clips — so most 16-bit greys become white);
 *   <li>grey+alpha, RGB, RGBA: the colour samples, the high byte of each 16-bit sample;
 *   <li>palette: the PLTE colour of each index.
 * </ul>
 * JPEG: the decoder's RGB (or grey replicated); CMYK/YCCK JPEGs are refused. Pixels are read from the raster, never
 * through a colour-managed path (no gamma or ICC conversion, as Pillow).
 */
public final class ImageDecoder {
  /** Pillow's decompression-bomb error threshold: 2 × {@code Image.MAX_IMAGE_PIXELS} (89,478,485). */
  public static final long MAX_PIXELS = 2L * 89_478_485;

  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private ImageDecoder() {}

  /** The image as RGB; a file that is missing, not PNG/JPEG, too large or damaged is a UserInputException naming it. */
  public static RgbImage decode(Path file) {
    Header h = header(file);
    if ((long) h.width * h.height > MAX_PIXELS)
      throw new UserInputException(file + ": " + h.width + "×" + h.height + " = " + (long) h.width * h.height
          + " pixels, more than the " + MAX_PIXELS + " sr4g decodes (Pillow's decompression-bomb limit)");
    BufferedImage img = read(file, h);
    if (img.getWidth() != h.width || img.getHeight() != h.height)
      throw new UserInputException(file + ": decoded " + img.getWidth() + "×" + img.getHeight() + ", header says "
          + h.width + "×" + h.height);
    return h.png ? fromPng(img, h) : fromJpeg(file, img);
  }

  /** What the header says: the size, and for PNG the colour type and bit depth. */
  private record Header(boolean png, int width, int height, int colourType, int bitDepth) {}

  private static Header header(Path file) {
    byte[] head = new byte[33];
    int n;
    try (InputStream in = Files.newInputStream(file)) {
      n = in.readNBytes(head, 0, head.length);
    } catch (NoSuchFileException e) {
      throw new UserInputException(file + ": no such file", e);
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (n >= 8 && java.util.Arrays.equals(head, 0, 8, PNG, 0, 8)) {
      ByteBuffer b = ByteBuffer.wrap(head);
      if (n < 33 || b.getInt(12) != 0x49484452) throw new UserInputException(file + ": PNG without an IHDR chunk first");
      int w = b.getInt(16), hgt = b.getInt(20);
      if (w <= 0 || hgt <= 0) throw new UserInputException(file + ": PNG header declares size " + w + "×" + hgt);
      return new Header(true, w, hgt, head[25] & 0xff, head[24] & 0xff);
    }
    if (n >= 3 && (head[0] & 0xff) == 0xff && (head[1] & 0xff) == 0xd8 && (head[2] & 0xff) == 0xff) {
      // JPEG: the reader parses markers up to the frame header (SOF) for the size, decoding no pixel.
      try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
        ImageReader r = reader(file, in, "jpeg");
        try {
          return new Header(false, r.getWidth(0), r.getHeight(0), -1, 8);
        } finally {
          r.dispose();
        }
      } catch (IOException | RuntimeException e) {
        throw new UserInputException(file + ": damaged JPEG header: " + e.getMessage(), e);
      }
    }
    throw new UserInputException(file + ": not a PNG or JPEG image");
  }

  private static ImageReader reader(Path file, ImageInputStream in, String format) {
    Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(format);
    if (!it.hasNext()) throw new UserInputException(file + ": no " + format + " decoder in this JDK");
    ImageReader r = it.next();
    r.setInput(in, true, true);
    return r;
  }

  private static BufferedImage read(Path file, Header h) {
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      ImageReader r = reader(file, in, h.png ? "png" : "jpeg");
      try {
        return r.read(0);
      } finally {
        r.dispose();
      }
    } catch (IOException | RuntimeException e) {
      throw new UserInputException(file + ": cannot decode: " + (e.getMessage() == null ? e : e.getMessage()), e);
    }
  }

  private static RgbImage fromPng(BufferedImage img, Header h) {
    int w = h.width, hgt = h.height, depth = h.bitDepth;
    Raster r = img.getRaster();
    byte[] out = new byte[w * hgt * 3];
    int[] row = new int[w * r.getNumBands()];
    IndexColorModel palette = h.colourType == 3 && img.getColorModel() instanceof IndexColorModel icm ? icm : null;
    if (h.colourType == 3 && palette == null) throw new IllegalStateException("palette PNG decoded without a palette");
    int bands = r.getNumBands();
    for (int y = 0; y < hgt; y++) {
      r.getPixels(0, y, w, 1, row);
      for (int x = 0; x < w; x++) {
        int o = (y * w + x) * 3, s = x * bands;
        switch (h.colourType) {
          case 0 -> { // grey
            int v = row[s];
            int g = depth < 8 ? v * (255 / ((1 << depth) - 1)) : depth == 16 ? Math.min(v, 255) : v;
            out[o] = out[o + 1] = out[o + 2] = (byte) g;
          }
          case 3 -> {
            int i = row[s];
            out[o] = (byte) palette.getRed(i);
            out[o + 1] = (byte) palette.getGreen(i);
            out[o + 2] = (byte) palette.getBlue(i);
          }
          case 4 -> out[o] = out[o + 1] = out[o + 2] = (byte) (depth == 16 ? row[s] >> 8 : row[s]);
          case 2, 6 -> {
            for (int c = 0; c < 3; c++) out[o + c] = (byte) (depth == 16 ? row[s + c] >> 8 : row[s + c]);
          }
          default -> throw new IllegalStateException("PNG colour type " + h.colourType);
        }
      }
    }
    return new RgbImage(w, hgt, out);
  }

  private static RgbImage fromJpeg(Path file, BufferedImage img) {
    int w = img.getWidth(), hgt = img.getHeight();
    Raster r = img.getRaster();
    int bands = r.getNumBands();
    if (bands != 1 && bands != 3)
      throw new UserInputException(file + ": JPEG with " + bands + " channels (CMYK?) is not supported");
    byte[] out = new byte[w * hgt * 3];
    int[] row = new int[w * bands];
    for (int y = 0; y < hgt; y++) {
      r.getPixels(0, y, w, 1, row);
      for (int x = 0; x < w; x++) {
        int o = (y * w + x) * 3;
        for (int c = 0; c < 3; c++) out[o + c] = (byte) row[x * bands + (bands == 1 ? 0 : c)];
      }
    }
    return new RgbImage(w, hgt, out);
  }
}

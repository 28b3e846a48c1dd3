package org.sr4g.detection.image;

/** An 8-bit RGB image: {@code rgb} holds height × width × 3 bytes, row-major, channels R, G, B (PIL's "RGB" layout). */
public record RgbImage(int width, int height, byte[] rgb) {
  public RgbImage {
    if (width < 1 || height < 1 || rgb.length != (long) width * height * 3)
      throw new IllegalArgumentException(width + "×" + height + " RGB needs " + (long) width * height * 3 + " bytes, got "
          + rgb.length);
  }
}

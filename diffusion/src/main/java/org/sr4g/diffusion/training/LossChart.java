package org.sr4g.diffusion.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sr4g.io.AtomicFiles;

/**
 * {@code OUT/loss.svg}: the loss of every row of {@code metrics.jsonl} against its step, a hand-written SVG (one
 * polyline point per logged step, linear axes, min/max labels). Written atomically.
 */
public final class LossChart {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int W = 640, H = 360, L = 60, R = 20, T = 20, B = 40;

  private LossChart() {}

  public static Path write(Path metrics, Path svg) {
    List<double[]> pts = new ArrayList<>();
    try {
      if (Files.exists(metrics))
        for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
          if (line.isBlank()) continue;
          JsonNode n;
          try {
            n = JSON.readTree(line);
          } catch (IOException e) {
            continue; // a torn last line
          }
          if (n.has("step") && n.has("loss")) pts.add(new double[] {n.get("step").asDouble(), (n.get("loss").isNumber() ? n.get("loss").asDouble() : Double.NaN)});
        }
      Path tmp = svg.resolveSibling("." + svg.getFileName() + ".tmp");
      Files.writeString(tmp, render(pts), StandardCharsets.UTF_8);
      AtomicFiles.move(tmp, svg);
      return svg;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String render(List<double[]> pts) {
    double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY;
    double y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
    for (double[] p : pts) {
      x0 = Math.min(x0, p[0]);
      x1 = Math.max(x1, p[0]);
      if (Double.isFinite(p[1])) {
        y0 = Math.min(y0, p[1]);
        y1 = Math.max(y1, p[1]);
      }
    }
    if (!(x1 > x0)) { x0 = pts.isEmpty() ? 0 : x0 - 1; x1 = x0 + 2; }
    if (!(y1 > y0)) { y0 = Double.isFinite(y0) ? y0 - 1 : 0; y1 = y0 + 2; }
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>%n"
        + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%n", W, H, W, H));
    s.append("<title>training loss</title>\n");
    s.append(String.format(Locale.ROOT, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>%n", W, H));
    s.append(String.format(Locale.ROOT, "<path d=\"M%d %d V%d H%d\" stroke=\"black\" fill=\"none\"/>%n", L, T, H - B, W - R));
    String font = "font-family=\"sans-serif\" font-size=\"11\"";
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" %s text-anchor=\"end\">%.4g</text>%n", L - 4, T + 4, font, y1));
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" %s text-anchor=\"end\">%.4g</text>%n", L - 4, H - B, font, y0));
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" %s text-anchor=\"middle\">%.0f</text>%n", L, H - B + 14, font, x0));
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" %s text-anchor=\"middle\">%.0f</text>%n", W - R, H - B + 14, font, x1));
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" %s text-anchor=\"middle\">step</text>%n", (L + W - R) / 2, H - 8, font));
    s.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%d\" %s text-anchor=\"middle\" transform=\"rotate(-90 12 %d)\">loss</text>%n",
        (T + H - B) / 2, font, (T + H - B) / 2));
    s.append("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"");
    for (int i = 0; i < pts.size(); i++) {
      double[] p = pts.get(i);
      double y = Double.isFinite(p[1]) ? p[1] : y1; // a NaN/inf loss is drawn at the top
      double px = L + (p[0] - x0) / (x1 - x0) * (W - L - R);
      double py = H - B - (y - y0) / (y1 - y0) * (H - T - B);
      if (i > 0) s.append(' ');
      s.append(String.format(Locale.ROOT, "%.2f,%.2f", px, py));
    }
    s.append("\"/>\n</svg>\n");
    return s.toString();
  }
}

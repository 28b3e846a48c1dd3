package org.sr4g.evaluation;

import java.util.List;
import java.util.Locale;

/** Hand-written inline SVG charts: no library, no script, no network, so the report is one self-contained file. */
final class Svg {
  static final String[] COLORS = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1"};

  private Svg() {}

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  private static String n(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  /**
   * Grouped bars on a 0..yMax axis: one group per category, one bar per series; NaN values draw no bar. Optional
   * {@code lo/hi} (same shape as values) draw interval whiskers.
   */
  static String groupedBars(String title, List<String> categories, String[] series, double[][] values, double yMax,
      String unit, double[][] lo, double[][] hi) {
    int w = 1100;
    int h = 380;
    int left = 50;
    int right = 20;
    int top = 40;
    int bottom = 90;
    double plotW = w - left - right;
    double plotH = h - top - bottom;
    StringBuilder sb = open(w, h, left, title);
    for (int t = 0; t <= 4; t++) {
      double v = yMax * t / 4;
      double y = top + plotH - plotH * t / 4;
      sb.append("<line x1=\"").append(left).append("\" x2=\"").append(w - right).append("\" y1=\"").append(n(y))
          .append("\" y2=\"").append(n(y)).append("\" stroke=\"#ddd\"/>");
      sb.append("<text x=\"").append(left - 5).append("\" y=\"").append(n(y + 4)).append("\" text-anchor=\"end\">")
          .append(String.format(Locale.ROOT, "%.0f", v)).append(unit).append("</text>\n");
    }
    int cats = Math.max(1, categories.size());
    double band = plotW / cats;
    double barW = band * 0.8 / series.length;
    for (int c = 0; c < categories.size(); c++) {
      double x0 = left + c * band + band * 0.1;
      for (int s = 0; s < series.length; s++) {
        double v = values[s][c];
        double x = x0 + s * barW;
        if (Double.isFinite(v)) {
          double bh = plotH * Math.max(0, Math.min(v, yMax)) / yMax;
          sb.append("<rect x=\"").append(n(x)).append("\" y=\"").append(n(top + plotH - bh)).append("\" width=\"")
              .append(n(barW - 1)).append("\" height=\"").append(n(bh)).append("\" fill=\"")
              .append(COLORS[s % COLORS.length]).append("\"><title>").append(esc(series[s])).append(", ")
              .append(esc(categories.get(c))).append(": ").append(MarkdownSummary.f(v)).append("</title></rect>");
          if (barW > 14) {
            sb.append("<text x=\"").append(n(x + barW / 2)).append("\" y=\"").append(n(top + plotH - bh - 3))
                .append("\" text-anchor=\"middle\" font-size=\"9\">").append(String.format(Locale.ROOT, "%.0f", v))
                .append("</text>");
          }
        }
        if (lo != null && Double.isFinite(lo[s][c]) && Double.isFinite(hi[s][c])) {
          double y1 = top + plotH - plotH * Math.max(0, Math.min(lo[s][c], yMax)) / yMax;
          double y2 = top + plotH - plotH * Math.max(0, Math.min(hi[s][c], yMax)) / yMax;
          double xm = x + barW / 2;
          sb.append("<line x1=\"").append(n(xm)).append("\" x2=\"").append(n(xm)).append("\" y1=\"").append(n(y1))
              .append("\" y2=\"").append(n(y2)).append("\" stroke=\"#222\"/>");
        }
      }
      double lx = left + c * band + band / 2;
      double ly = top + plotH + 14;
      sb.append("<text x=\"").append(n(lx)).append("\" y=\"").append(n(ly)).append("\" text-anchor=\"end\" transform=\"rotate(-30 ")
          .append(n(lx)).append(' ').append(n(ly)).append(")\">").append(esc(categories.get(c))).append("</text>\n");
    }
    sb.append("<line x1=\"").append(left).append("\" x2=\"").append(w - right).append("\" y1=\"").append(n(top + plotH))
        .append("\" y2=\"").append(n(top + plotH)).append("\" stroke=\"#333\"/>\n");
    legend(sb, series, w - right - 160 * series.length, 20);
    sb.append("</svg>\n");
    return sb.toString();
  }

  private static void legend(StringBuilder sb, String[] series, double x, double y) {
    for (int s = 0; s < series.length; s++) {
      double lx = Math.max(300, x) + s * 160;
      sb.append("<rect x=\"").append(n(lx)).append("\" y=\"").append(n(y - 9)).append("\" width=\"10\" height=\"10\" fill=\"")
          .append(COLORS[s % COLORS.length]).append("\"/><text x=\"").append(n(lx + 14)).append("\" y=\"").append(n(y))
          .append("\">").append(esc(series[s])).append("</text>");
    }
  }

  /** The {@code <svg>} element of a w × h chart and its bold title at x = {@code left}, as every chart here starts. */
  private static StringBuilder open(int w, int h, int left, String title) {
    StringBuilder sb = new StringBuilder();
    sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(w).append("\" height=\"").append(h)
        .append("\" viewBox=\"0 0 ").append(w).append(' ').append(h).append("\" role=\"img\" aria-label=\"")
        .append(esc(title)).append("\" font-family=\"sans-serif\" font-size=\"11\">\n");
    sb.append("<text x=\"").append(left).append("\" y=\"20\" font-size=\"15\" font-weight=\"bold\">").append(esc(title))
        .append("</text>\n");
    return sb;
  }

  /** Scatter on x in [0, xMax], y in [0, 100]; {@code group} picks the colour, {@code groups} names them. */
  static String scatter(String title, String xLabel, String yLabel, double[] x, double[] y, int[] group,
      String[] groups, String[] tips) {
    int w = 900;
    int h = 460;
    int left = 60;
    int top = 40;
    int bottom = 60;
    int right = 20;
    double plotW = w - left - right;
    double plotH = h - top - bottom;
    double xMax = 1;
    for (double v : x) xMax = Math.max(xMax, v);
    xMax = Math.ceil(xMax);
    StringBuilder sb = open(w, h, left, title);
    for (int t = 0; t <= 4; t++) {
      double yy = top + plotH - plotH * t / 4;
      sb.append("<line x1=\"").append(left).append("\" x2=\"").append(w - right).append("\" y1=\"").append(n(yy))
          .append("\" y2=\"").append(n(yy)).append("\" stroke=\"#ddd\"/><text x=\"").append(left - 5).append("\" y=\"")
          .append(n(yy + 4)).append("\" text-anchor=\"end\">").append(25 * t).append("</text>\n");
    }
    int xt = (int) xMax;
    for (int t = 0; t <= xt; t++) {
      double xx = left + plotW * t / xMax;
      sb.append("<line x1=\"").append(n(xx)).append("\" x2=\"").append(n(xx)).append("\" y1=\"").append(top)
          .append("\" y2=\"").append(n(top + plotH)).append("\" stroke=\"#eee\"/><text x=\"").append(n(xx)).append("\" y=\"")
          .append(n(top + plotH + 15)).append("\" text-anchor=\"middle\">").append(t).append("</text>\n");
    }
    for (int i = 0; i < x.length; i++) {
      double px = left + plotW * x[i] / xMax;
      double py = top + plotH - plotH * Math.max(0, Math.min(100, y[i])) / 100;
      sb.append("<circle cx=\"").append(n(px)).append("\" cy=\"").append(n(py)).append("\" r=\"2.5\" fill=\"")
          .append(COLORS[group[i] % COLORS.length]).append("\" fill-opacity=\"0.55\">");
      if (tips != null) sb.append("<title>").append(esc(tips[i])).append("</title>");
      sb.append("</circle>");
      if (i % 64 == 63) sb.append('\n');
    }
    sb.append("\n<text x=\"").append(n(left + plotW / 2)).append("\" y=\"").append(h - 15)
        .append("\" text-anchor=\"middle\">").append(esc(xLabel)).append("</text>");
    sb.append("<text x=\"15\" y=\"").append(n(top + plotH / 2)).append("\" text-anchor=\"middle\" transform=\"rotate(-90 15 ")
        .append(n(top + plotH / 2)).append(")\">").append(esc(yLabel)).append("</text>\n");
    legend(sb, groups, w - right - 160 * groups.length, 20);
    sb.append("</svg>\n");
    return sb.toString();
  }
}

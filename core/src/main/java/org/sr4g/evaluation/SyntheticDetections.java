package org.sr4g.evaluation;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import org.sr4g.geometry.NormalizedBox;
import org.sr4g.io.AtomicFiles;
import org.sr4g.io.OutputRules;
import org.sr4g.relations.RelationRules;

/**
 * Writes format (b) detections for a prompt file with a chosen accuracy, for end-to-end tests and benchmarks (no
 * images, no detector). Per image: A and B are each detected with probability {@code detect}; when both are, their
 * boxes are drawn (by rejection sampling, checked with the same {@link RelationRules}) so that the prompt's relation
 * holds with probability {@code accuracy} (optionally shifted by training frequency), else so that its opposite
 * holds. A third detection is added: an extra box of A below the threshold, or a box of an unrelated label.
 */
public final class SyntheticDetections {
  /** Knobs of the generator. */
  public record Settings(int imagesPerPrompt, double detect, double accuracy, double frequencySlope, long seed) {}

  private SyntheticDetections() {}

  /** Returns the number of images written. */
  public static long write(Path out, PromptSet prompts, TripletCounts triplets, Settings s) throws IOException {
    SplittableRandom rnd = new SplittableRandom(s.seed());
    double maxLog = 1;
    if (triplets != null) {
      for (EvalPrompt p : prompts.all()) {
        if (p.scored()) maxLog = Math.max(maxLog, Math.log1p(triplets.count(p.objectA(), p.relation(), p.objectB())));
      }
    }
    float[] a = new float[4];
    float[] b = new float[4];
    StringBuilder sb = new StringBuilder(512);
    long[] count = new long[1];
    OutputRules.checkFile(out);
    double maxLogF = maxLog;
    AtomicFiles.write(out, os -> {
    BufferedWriter w = new BufferedWriter(new OutputStreamWriter(os, StandardCharsets.UTF_8));
      for (EvalPrompt p : prompts.all()) {
        double acc = s.accuracy();
        if (triplets != null && p.scored()) {
          double f = Math.log1p(triplets.count(p.objectA(), p.relation(), p.objectB())) / maxLogF;
          acc = Math.max(0, Math.min(1, acc + s.frequencySlope() * (f - 0.5)));
        }
        for (int k = 0; k < s.imagesPerPrompt(); k++) {
          int width = rnd.nextBoolean() ? 512 : 768;
          int height = 512;
          sb.setLength(0);
          sb.append("{\"image\": \"").append(p.uniqueId()).append('_').append(k).append(".png\", \"prompt_id\": ")
              .append(p.uniqueId()).append(", \"width\": ").append(width).append(", \"height\": ").append(height)
              .append(", \"detections\": [");
          boolean hasA = rnd.nextDouble() < s.detect();
          boolean hasB = p.objectB() != null && rnd.nextDouble() < s.detect();
          if (hasA && hasB && p.scored()) {
            int want = rnd.nextDouble() < acc ? p.relation().bit() : p.relation().opposite().bit();
            pair(rnd, want, width, height, a, b);
          } else {
            random(rnd, width, height, a);
            random(rnd, width, height, b);
          }
          boolean first = true;
          if (hasA) first = det(sb, first, p.objectA(), 0.2 + 0.8 * rnd.nextDouble(), a);
          if (hasB) first = det(sb, first, p.objectB(), 0.2 + 0.8 * rnd.nextDouble(), b);
          float[] c = new float[4];
          random(rnd, width, height, c);
          if (rnd.nextBoolean()) det(sb, first, p.objectA(), 0.05 * rnd.nextDouble(), c);
          else det(sb, first, "person".equals(p.objectA()) ? "dog" : "person", 0.1 + 0.9 * rnd.nextDouble(), c);
          sb.append("]}\n");
          w.write(sb.toString());
          count[0]++;
        }
      }
      w.flush();
    });
    return count[0];
  }

  private static boolean det(StringBuilder sb, boolean first, String label, double score, float[] box) {
    if (!first) sb.append(", ");
    sb.append("{\"label\": ").append(jsonString(label)).append(", \"score\": ")
        .append(String.format(Locale.ROOT, "%.3f", score)).append(", \"box\": [")
        .append(String.format(Locale.ROOT, "%.1f, %.1f, %.1f, %.1f", box[0], box[1], box[2], box[3])).append("]}");
    return false;
  }

  /** A JSON string literal: labels come from the prompt file and may hold quotes, backslashes or control characters. */
  static String jsonString(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance().quoteAsString(s, b);
    return b.append('"').toString();
  }

  private static void random(SplittableRandom rnd, int w, int h, float[] box) {
    float bw = (float) (w * (0.05 + 0.4 * rnd.nextDouble()));
    float bh = (float) (h * (0.05 + 0.4 * rnd.nextDouble()));
    float x = (float) ((w - bw) * rnd.nextDouble());
    float y = (float) ((h - bh) * rnd.nextDouble());
    // Rounded as the file will store them, so the relation checked here is the relation read back.
    box[0] = round(x);
    box[1] = round(y);
    box[2] = round(x + bw);
    box[3] = round(y + bh);
  }

  private static float round(float v) {
    return Math.round(v * 10f) / 10f;
  }

  /** Draws boxes until {@code want} holds for (a, b); nested pairs are proposed too so inside/surrounding occur. */
  private static void pair(SplittableRandom rnd, int want, int w, int h, float[] a, float[] b) {
    for (int t = 0; t < 500; t++) {
      random(rnd, w, h, a);
      random(rnd, w, h, b);
      if (rnd.nextInt(4) == 0) nest(rnd, rnd.nextBoolean() ? a : b, rnd.nextBoolean() ? b : a);
      if ((relations(a, b, w, h) & want) != 0) return;
    }
  }

  private static void nest(SplittableRandom rnd, float[] outer, float[] inner) {
    if (outer == inner) return;
    float ow = outer[2] - outer[0];
    float oh = outer[3] - outer[1];
    float iw = (float) (ow * (0.2 + 0.6 * rnd.nextDouble()));
    float ih = (float) (oh * (0.2 + 0.6 * rnd.nextDouble()));
    float x = outer[0] + (float) ((ow - iw) * rnd.nextDouble());
    float y = outer[1] + (float) ((oh - ih) * rnd.nextDouble());
    inner[0] = round(x);
    inner[1] = round(y);
    inner[2] = round(x + iw);
    inner[3] = round(y + ih);
  }

  private static int relations(float[] a, float[] b, int w, int h) {
    return RelationRules.relations(NormalizedBox.fromCoco(a[0], a[1], a[2] - a[0], a[3] - a[1], w, h),
        NormalizedBox.fromCoco(b[0], b[1], b[2] - b[0], b[3] - b[1], w, h));
  }
}

package org.sr4g.detection;

/**
 * transformers' {@code post_process_object_detection} for one image, without its threshold: per patch the best query
 * ({@code label = argmax_q logits}, the first on ties), {@code score = sigmoid(max_q logits)}, and the box
 * {@code (cx − w/2, cy − h/2, cx + w/2, cy + h/2) × (W, H, W, H)} in pixels of the original image — all in float32,
 * in patch order, no NMS and no clipping (boxes may reach past the image), as VISOR uses it.
 */
public final class PostProcess {
  private PostProcess() {}

  /** Every patch of one image: labels, scores and boxes {@code [x0, y0, x1, y1]} (4 floats a patch). */
  public record Patches(int width, int height, int[] labels, float[] scores, float[] boxes) {
    public int size() {
      return scores.length;
    }

    /** The patches a detection keeps: {@code score > threshold} compared in float32 (0.1 itself is dropped). */
    public int[] kept(double threshold) {
      float t = (float) threshold;
      return java.util.stream.IntStream.range(0, scores.length).filter(i -> scores[i] > t).toArray();
    }
  }

  /**
   * @param logits [B, P, Q] float32, row-major
   * @param predBoxes [B, P, 4] (cx, cy, w, h) in [0, 1]
   * @param image which of the B images
   */
  public static Patches of(float[] logits, float[] predBoxes, int image, int patches, int queries, int width,
      int height) {
    int[] labels = new int[patches];
    float[] scores = new float[patches], boxes = new float[patches * 4];
    float fw = width, fh = height;
    for (int p = 0; p < patches; p++) {
      int base = (image * patches + p) * queries;
      int best = 0;
      for (int q = 1; q < queries; q++) if (logits[base + q] > logits[base + best]) best = q;
      labels[p] = best;
      scores[p] = sigmoid(logits[base + best]);
      int b = (image * patches + p) * 4;
      float cx = predBoxes[b], cy = predBoxes[b + 1], hw = 0.5f * predBoxes[b + 2], hh = 0.5f * predBoxes[b + 3];
      boxes[4 * p] = (cx - hw) * fw;
      boxes[4 * p + 1] = (cy - hh) * fh;
      boxes[4 * p + 2] = (cx + hw) * fw;
      boxes[4 * p + 3] = (cy + hh) * fh;
    }
    return new Patches(width, height, labels, scores, boxes);
  }

  /** float32 sigmoid (computed in double and rounded once: within one ulp of torch's kernel). */
  static float sigmoid(float x) {
    return (float) (1.0 / (1.0 + Math.exp(-(double) x)));
  }
}

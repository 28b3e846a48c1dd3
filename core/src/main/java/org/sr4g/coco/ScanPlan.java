package org.sr4g.coco;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.sr4g.coco.CocoScanner.Section;

/**
 * Where a COCO file is cut into parts that {@link CocoScanner}s read at the same time. Near each equally spaced offset
 * the planner looks for an element boundary of a section array — {@code '}' ws ',' ws '{'} — and guesses the section
 * from the element's keys. Nothing here is trusted: the scan of each part proves the next part's start (see
 * {@link CocoScanner}), so a cut inside a string or a wrong guess costs a re-read, never a wrong result.
 *
 * <p>Parts are a few MB (up to {@value #MAX_PART} bytes): small enough that two per thread are in memory at a time
 * and that the threads share the work evenly, large enough that a part's set-up is noise.
 */
final class ScanPlan {
  static final int MIN_PART = 1 << 20;
  static final int MAX_PART = 16 << 20;
  /** How far past a cut the planner looks for an element boundary, first and at most. */
  private static final int PROBE = 64 << 10, MAX_PROBE = 4 << 20;

  /** Part k is bytes {@code [start[k], start[k+1])}; its first element is in {@code section[k]} (null for part 0). */
  final long[] start;
  final Section[] section;

  private ScanPlan(long[] start, Section[] section) {
    this.start = start;
    this.section = section;
  }

  int parts() {
    return section.length;
  }

  int length(int k) {
    return (int) (start[k + 1] - start[k]);
  }

  /** One part: the whole file (null when it does not fit one array). */
  static ScanPlan whole(long size) {
    return size >= Integer.MAX_VALUE - 8 ? null : new ScanPlan(new long[] {0, size}, new Section[1]);
  }

  /**
   * Parts for {@code threads} threads, at least {@code minPart} bytes each (but the last); null when some part would
   * not fit an array (the caller uses the parser).
   */
  static ScanPlan of(CocoSource src, int threads, int minPart) throws IOException {
    long size = src.size();
    long target = Math.max(minPart, Math.min(MAX_PART, size / (4L * threads)));
    int wanted = (int) Math.min(Integer.MAX_VALUE / 2, (size + target - 1) / target);
    List<Long> starts = new ArrayList<>(List.of(0L));
    List<Section> sections = new ArrayList<>();
    sections.add(null);
    for (int k = 1; k < wanted; k++) {
      long cut = size * k / wanted;
      if (cut <= starts.get(starts.size() - 1)) continue;
      Boundary found = boundary(src, cut);
      if (found == null || found.offset() <= starts.get(starts.size() - 1)) continue;
      starts.add(found.offset());
      sections.add(found.section());
    }
    starts.add(size);
    long[] s = new long[starts.size()];
    for (int i = 0; i < s.length; i++) s[i] = starts.get(i);
    for (int i = 0; i + 1 < s.length; i++) if (s[i + 1] - s[i] >= Integer.MAX_VALUE - 8) return null;
    return new ScanPlan(s, sections.toArray(new Section[0]));
  }

  /** Where a part may start: the offset of an element's '{' and the section the element looks like it is in. */
  private record Boundary(long offset, Section section) {}

  /** The first plausible element start at or after {@code cut}, or null. */
  private static Boundary boundary(CocoSource src, long cut) throws IOException {
    for (int window = PROBE; ; window *= 4) {
      int n = (int) Math.min(window, src.size() - cut);
      byte[] w = new byte[n + 1];
      src.read(cut, w, 0, n);
      for (int i = 0; i < n; i++) {
        if (w[i] != '}') continue;
        int j = skipWs(w, i + 1, n);
        if (j >= n || w[j] != ',') continue;
        j = skipWs(w, j + 1, n);
        if (j >= n || w[j] != '{') continue;
        byte[] element = new byte[n - j + 1];
        System.arraycopy(w, j, element, 0, n - j);
        Section s = CocoScanner.guessSection(element, n - j);
        if (s != null) return new Boundary(cut + j, s);
      }
      if (n < window || window >= MAX_PROBE) return null;
    }
  }

  private static int skipWs(byte[] w, int i, int n) {
    while (i < n && (w[i] == ' ' || w[i] == '\n' || w[i] == '\r' || w[i] == '\t')) i++;
    return i;
  }
}

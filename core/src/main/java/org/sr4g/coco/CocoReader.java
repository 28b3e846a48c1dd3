package org.sr4g.coco;

import java.io.IOException;
import java.util.EnumSet;
import java.util.List;
import java.util.function.LongConsumer;
import org.sr4g.concurrent.OrderedParallel;
import org.sr4g.coco.CocoScanner.Defer;
import org.sr4g.coco.CocoScanner.Resync;
import org.sr4g.coco.CocoScanner.Section;

/**
 * Reads COCO instance annotation files into a {@link CocoDataset}: each file is cut into parts ({@link ScanPlan})
 * that {@link CocoScanner}s read on all threads, merged in file order; a file the scanner will not vouch for is read
 * again by {@link CocoJsonParser}, the canonical reader, which gives the error message. Results never depend on the
 * thread count or on which reader ran.
 *
 * <p>What is an error and what is counted: malformed JSON, a missing or mistyped required field, duplicate ids,
 * conflicting categories and (unless lenient) annotations whose image or category is unknown are errors naming the
 * file, the position and the record id. Boxes with non-finite values or non-positive size are dropped and counted.
 */
public final class CocoReader {
  private static final System.Logger LOG = System.getLogger(CocoReader.class.getName());

  private final boolean lenient;
  private LongConsumer progress = b -> {};
  private int threads = 1;
  /** Which reader read the last source (for tests and the log). */
  String lastPath = "";
  /**
   * Each reading thread's part buffer, reused from part to part: a fresh array per part (up to 16 MB) would be zeroed
   * and faulted into memory again each time, which cost about as much as reading the bytes.
   */
  private final ThreadLocal<byte[]> partBuffer = new ThreadLocal<>();
  /** Smallest part a file is cut into (tests cut small files into many parts). */
  int minPart = ScanPlan.MIN_PART;

  public CocoReader(boolean lenient) {
    this.lenient = lenient;
  }

  /** Receives the number of bytes read so far (across all sources), for a progress bar; called on the caller's thread. */
  public CocoReader onProgress(LongConsumer bytesRead) {
    this.progress = bytesRead;
    return this;
  }

  /** Reads each file with up to {@code threads} scanners at once. Results are identical to a serial read. */
  public CocoReader parallelism(int threads) {
    this.threads = Math.max(1, threads);
    return this;
  }

  public CocoDataset read(List<CocoSource> sources) {
    CocoColumns all = null;
    long before = 0;
    for (int f = 0; f < sources.size(); f++) {
      CocoSource src = sources.get(f);
      long base = before;
      LongConsumer at = n -> progress.accept(base + n);
      CocoColumns part = scan(src, f, at);
      if (part == null) part = CocoJsonParser.read(src, f, at);
      part.checkSections(src);
      if (all == null) all = part;
      else all.append(part);
      before += src.size();
    }
    if (all == null) all = new CocoColumns();
    return all.build(sources, lenient, true);
  }

  /** The scanners' columns, or null when the file needs the canonical parser. */
  private CocoColumns scan(CocoSource src, int fileIndex, LongConsumer at) {
    try {
      ScanPlan plan = ScanPlan.of(src, threads, minPart);
      if (plan == null) return deferred(src, "the file does not cut into parts");
      try {
        return scanParts(src, fileIndex, plan, at);
      } catch (Resync r) {
        // A cut fell where the planner misread the structure: one part, read serially, settles it.
        LOG.log(System.Logger.Level.DEBUG, "{0}: parallel scan resynchronised ({1}); scanning serially", src, r.getMessage());
        ScanPlan whole = ScanPlan.whole(src.size());
        return whole == null ? deferred(src, "too large for one part") : scanParts(src, fileIndex, whole, at);
      }
    } catch (Defer | Resync e) {
      return deferred(src, e.getMessage());
    } catch (IOException e) {
      return deferred(src, e.toString());
    }
  }

  private CocoColumns deferred(CocoSource src, String why) {
    lastPath = "parser";
    LOG.log(System.Logger.Level.DEBUG, "{0}: read by the canonical parser ({1})", src, why);
    return null;
  }

  private CocoColumns scanParts(CocoSource src, int fileIndex, ScanPlan plan, LongConsumer at) {
    int n = plan.parts();
    CocoColumns[] merged = {null};
    EnumSet<Section> opened = EnumSet.noneOf(Section.class);
    OrderedParallel.run("sr4g-read", Math.min(threads, n), 2 * threads, n, k -> scanPart(src, fileIndex, plan, k, partBuffer), (k, part) -> {
      for (Section s : part.opened()) if (!opened.add(s)) throw new Defer("a section given twice", 0);
      if (merged[0] == null) {
        merged[0] = part.columns();
      } else {
        if (merged[0].conflictingCategory(part.columns()) != null) throw new Defer("a category id with two names", 0);
        merged[0].append(part.columns());
      }
      at.accept(plan.start[k + 1]);
    });
    CocoColumns c = merged[0];
    lastPath = n == 1 ? "scanner" : "scanner x" + n;
    return c;
  }

  private static CocoScanner.Part scanPart(CocoSource src, int fileIndex, ScanPlan plan, int k, ThreadLocal<byte[]> buffer) {
    int len = plan.length(k);
    byte[] bytes = buffer.get();
    if (bytes == null || bytes.length <= len) {
      bytes = new byte[len + 1];
      buffer.set(bytes);
    }
    bytes[len] = 0; // the scanner's sentinel; what lies after it is never read
    try {
      src.read(plan.start[k], bytes, 0, len);
    } catch (IOException e) {
      throw new Defer("cannot read: " + e, 0);
    }
    int n = plan.parts();
    return CocoScanner.scan(bytes, len, plan.section[k], k + 1 < n ? plan.section[k + 1] : null, fileIndex);
  }
}

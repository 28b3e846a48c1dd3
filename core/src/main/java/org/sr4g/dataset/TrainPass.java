package org.sr4g.dataset;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.sr4g.coco.CocoDataset;
import org.sr4g.concurrent.OrderedParallel;
import org.sr4g.relations.RelationKernel;

/**
 * Relates every eligible ordered pair of the training images and writes train.jsonl and train_unseen.jsonl.
 *
 * <p>Images are cut into fixed chunks in image-id order. A worker renders each image's rows once, into a small heap
 * buffer that stays in cache, and copies them into the chunk's two direct buffers: all rows to the train.jsonl one,
 * the rows of two seen categories (runs of adjacent rows in one copy) to the train_unseen.jsonl one. The calling
 * thread writes the chunks strictly in chunk order ({@link OrderedParallel}), one {@code FileChannel.write} of a few
 * MB per file and chunk straight from direct memory, so the files are byte-identical for any thread count and the
 * writer's core does nothing but move bytes into the files. At most {@code 2 x threads} chunks are in flight, which
 * bounds memory whatever the input size.
 */
final class TrainPass {
  static final int IMAGES_PER_CHUNK = 256;

  private final CocoDataset d;
  private final GenerateOptions opt;
  private final int[] toMerged;
  private final boolean[] unseenMerged;
  private final RelationKernel kernel;
  private final RowRenderer renderer;
  private final int maxBoxes;
  private final ConcurrentLinkedQueue<RowChunk> pool = new ConcurrentLinkedQueue<>();
  private final List<PairStats> allStats = new ArrayList<>();
  private final ThreadLocal<Worker> workers;

  TrainPass(CocoDataset d, GenerateOptions opt, CategoryTable cats, boolean[] unseenMerged, RelationKernel kernel) {
    this.d = d;
    this.opt = opt;
    this.toMerged = cats.mapping(d);
    this.unseenMerged = unseenMerged;
    this.kernel = kernel;
    this.renderer = new RowRenderer(d);
    this.maxBoxes = Eligibility.maxBoxesPerImage(d);
    int categories = cats.size();
    this.workers =
        ThreadLocal.withInitial(
            () -> {
              Worker w = new Worker(new PairStats(categories));
              synchronized (allStats) {
                allStats.add(w.stats);
              }
              return w;
            });
  }

  /** Per-thread scratch space and counters. */
  private final class Worker {
    final PairStats stats;
    final ImageRelator relator = new ImageRelator(d, opt, toMerged, unseenMerged, kernel, renderer, maxBoxes);
    final ByteBuf imageRows = new ByteBuf(1 << 16);
    final SeenRuns seen = new SeenRuns();

    Worker(PairStats stats) {
      this.stats = stats;
    }
  }

  /** The byte ranges of an image's rows that also belong in train_unseen.jsonl, adjacent rows merged. */
  private static final class SeenRuns implements ImageRelator.RowListener {
    int[] runs = new int[64];
    int count;

    @Override
    public void row(ByteBuf rows, int start, int sb, int s, int r, int ob, int o, boolean seen) {
      if (!seen) return;
      if (count > 0 && runs[count - 1] == start) {
        runs[count - 1] = rows.size();
        return;
      }
      if (count == runs.length) runs = java.util.Arrays.copyOf(runs, count * 2);
      runs[count++] = start;
      runs[count++] = rows.size();
    }
  }

  /** One chunk's rows for each file, in direct memory so that the channel writes them without a copy. */
  private static final class RowChunk {
    ByteBuffer train = ByteBuffer.allocateDirect(1 << 20);
    ByteBuffer unseen = ByteBuffer.allocateDirect(1 << 20);

    static ByteBuffer append(ByteBuffer to, byte[] src, int off, int len) {
      if (to.remaining() < len) {
        ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(2 * to.capacity(), to.position() + len));
        to.flip();
        to = bigger.put(to);
      }
      return to.put(src, off, len);
    }
  }

  /** Runs the pass; returns the summed statistics. */
  PairStats run(Path trainFile, Path unseenFile, Progress progress) {
    int images = d.imageCount();
    int chunks = (images + IMAGES_PER_CHUNK - 1) / IMAGES_PER_CHUNK;
    try (FileChannel train = FileChannel.open(trainFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        FileChannel unseen = FileChannel.open(unseenFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      OrderedParallel.run("sr4g-relate", opt.threads(), 2 * opt.threads(), chunks, this::chunk, (c, chunk) -> {
        write(train, chunk.train);
        write(unseen, chunk.unseen);
        pool.add(chunk);
        progress.update("relating", Math.min((long) (c + 1) * IMAGES_PER_CHUNK, images), images);
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    PairStats total = new PairStats(unseenMerged.length);
    synchronized (allStats) {
      for (PairStats s : allStats) total.add(s);
    }
    return total;
  }

  private static void write(FileChannel ch, ByteBuffer b) throws IOException {
    b.flip();
    while (b.hasRemaining()) ch.write(b);
    b.clear();
  }

  private RowChunk chunk(int c) {
    Worker w = workers.get();
    RowChunk chunk = pool.poll();
    if (chunk == null) chunk = new RowChunk();
    ByteBuf rows = w.imageRows;
    SeenRuns seen = w.seen;
    int from = c * IMAGES_PER_CHUNK, to = Math.min(d.imageCount(), from + IMAGES_PER_CHUNK);
    for (int image = from; image < to; image++) {
      rows.clear();
      seen.count = 0;
      w.relator.relate(image, w.stats, rows, seen);
      chunk.train = RowChunk.append(chunk.train, rows.array(), 0, rows.size());
      for (int k = 0; k < seen.count; k += 2) {
        chunk.unseen = RowChunk.append(chunk.unseen, rows.array(), seen.runs[k], seen.runs[k + 1] - seen.runs[k]);
      }
    }
    return chunk;
  }
}

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
 * buffer that stays in cache, and copies them into the chunk's direct buffer, noting where the rows of two seen
 * categories are (runs of adjacent rows merged). The calling thread writes the chunks strictly in chunk order
 * ({@link OrderedParallel}): train.jsonl with one {@code FileChannel.write} of a few MB per chunk straight from direct
 * memory, train_unseen.jsonl with gathering writes of slices of the same bytes, so the files are byte-identical for
 * any thread count, the worker copies each row once, and the writer's core does nothing but hand bytes to the kernel.
 * At most {@code 2 x threads} chunks are in flight, which bounds memory whatever the input size.
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
    final SeenRows seen = new SeenRows();

    Worker(PairStats stats) {
      this.stats = stats;
    }
  }

  /** Tells the chunk where the rows of two seen categories land in it (they also belong in train_unseen.jsonl). */
  private static final class SeenRows implements ImageRelator.RowListener {
    RowChunk chunk;
    /** Where the current image's rows will start in the chunk's buffer. */
    int base;

    @Override
    public void row(ByteBuf rows, int start, int sb, int s, int r, int ob, int o, boolean seen) {
      if (seen) chunk.addUnseen(base + start, base + rows.size());
    }
  }

  /**
   * One chunk's rows, in direct memory so that the channel writes them without a copy, and where in them the
   * train_unseen.jsonl rows are: that file is written from the same bytes by a gathering write, so the worker copies
   * every row once (into {@code train}) and the unseen ones never.
   */
  private static final class RowChunk {
    ByteBuffer train = ByteBuffer.allocateDirect(1 << 20);
    /** The unseen rows' byte ranges in {@code train}: [start, end) pairs, adjacent rows merged. */
    int[] unseen = new int[1 << 10];
    int unseenLength;

    void append(byte[] src, int len) {
      if (train.remaining() < len) {
        ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(2 * train.capacity(), train.position() + len));
        train.flip();
        train = bigger.put(train);
      }
      train.put(src, 0, len);
    }

    void addUnseen(int start, int end) {
      if (unseenLength > 0 && unseen[unseenLength - 1] == start) {
        unseen[unseenLength - 1] = end;
        return;
      }
      if (unseenLength == unseen.length) unseen = java.util.Arrays.copyOf(unseen, 2 * unseenLength);
      unseen[unseenLength++] = start;
      unseen[unseenLength++] = end;
    }
  }

  /** Runs the pass; returns the summed statistics. */
  PairStats run(Path trainFile, Path unseenFile, Progress progress) {
    int images = d.imageCount();
    int chunks = (images + IMAGES_PER_CHUNK - 1) / IMAGES_PER_CHUNK;
    try (FileChannel train = FileChannel.open(trainFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        FileChannel unseen = FileChannel.open(unseenFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      OrderedParallel.run("sr4g-relate", opt.threads(), 2 * opt.threads(), chunks, this::chunk, (c, chunk) -> {
        writeUnseen(unseen, chunk); // first: its slices read the buffer that write() then flips
        write(train, chunk.train);
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

  /** Ranges per gathering write: Linux takes at most 1,024 buffers per writev. */
  private static final int GATHER = 1024;

  /** The chunk's unseen rows, as slices of its train buffer, in gathering writes of up to {@value #GATHER} ranges. */
  private static void writeUnseen(FileChannel ch, RowChunk chunk) throws IOException {
    int ranges = chunk.unseenLength / 2;
    for (int first = 0; first < ranges; first += GATHER) {
      ByteBuffer[] slices = new ByteBuffer[Math.min(GATHER, ranges - first)];
      for (int k = 0; k < slices.length; k++) {
        int start = chunk.unseen[2 * (first + k)], end = chunk.unseen[2 * (first + k) + 1];
        slices[k] = chunk.train.slice(start, end - start);
      }
      for (int k = 0; k < slices.length; ) {
        ch.write(slices, k, slices.length - k);
        while (k < slices.length && !slices[k].hasRemaining()) k++;
      }
    }
    chunk.unseenLength = 0;
  }

  private RowChunk chunk(int c) {
    Worker w = workers.get();
    RowChunk chunk = pool.poll();
    if (chunk == null) chunk = new RowChunk();
    ByteBuf rows = w.imageRows;
    SeenRows seen = w.seen;
    seen.chunk = chunk;
    int from = c * IMAGES_PER_CHUNK, to = Math.min(d.imageCount(), from + IMAGES_PER_CHUNK);
    for (int image = from; image < to; image++) {
      rows.clear();
      seen.base = chunk.train.position();
      w.relator.relate(image, w.stats, rows, seen);
      chunk.append(rows.array(), rows.size());
    }
    return chunk;
  }
}

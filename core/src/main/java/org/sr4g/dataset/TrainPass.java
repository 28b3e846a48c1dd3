package org.sr4g.dataset;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.sr4g.coco.CocoDataset;
import org.sr4g.relations.RelationKernel;

/**
 * Relates every eligible ordered pair of the training images and writes train.jsonl and train_unseen.jsonl.
 *
 * <p>Images are cut into fixed chunks in image-id order; workers render chunks to byte buffers and the calling thread
 * writes them strictly in chunk order, so the files are byte-identical for any thread count. At most {@code 2 x
 * threads} chunks are in flight, which bounds memory whatever the input size.
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
  private final ConcurrentLinkedQueue<ByteBuf> pool = new ConcurrentLinkedQueue<>();
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

    Worker(PairStats stats) {
      this.stats = stats;
    }
  }

  private static final class Chunk {
    final ByteBuf train;
    final ByteBuf unseen;

    Chunk(ByteBuf train, ByteBuf unseen) {
      this.train = train;
      this.unseen = unseen;
    }
  }

  /** Runs the pass; returns the summed statistics. */
  PairStats run(Path trainFile, Path unseenFile, Progress progress) {
    int images = d.imageCount();
    int chunks = (images + IMAGES_PER_CHUNK - 1) / IMAGES_PER_CHUNK;
    ExecutorService pool = Executors.newFixedThreadPool(opt.threads(), r -> {
      Thread t = new Thread(r, "sr4g-relate");
      t.setDaemon(true);
      return t;
    });
    try (FileChannel train = FileChannel.open(trainFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        FileChannel unseen = FileChannel.open(unseenFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ArrayDeque<Future<Chunk>> inFlight = new ArrayDeque<>();
      int next = 0;
      int window = 2 * opt.threads();
      for (int done = 0; done < chunks; done++) {
        while (next < chunks && inFlight.size() < window) {
          final int c = next++;
          inFlight.add(pool.submit(() -> chunk(c)));
        }
        Chunk ch = inFlight.poll().get();
        write(train, ch.train);
        write(unseen, ch.unseen);
        release(ch.train);
        release(ch.unseen);
        progress.update("relating", Math.min((long) (done + 1) * IMAGES_PER_CHUNK, images), images);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException) throw (RuntimeException) c;
      if (c instanceof Error) throw (Error) c;
      throw new IllegalStateException(c);
    } finally {
      pool.shutdownNow();
    }
    PairStats total = new PairStats(unseenMerged.length);
    synchronized (allStats) {
      for (PairStats s : allStats) total.add(s);
    }
    return total;
  }

  private static void write(FileChannel ch, ByteBuf b) throws IOException {
    ByteBuffer bb = ByteBuffer.wrap(b.a, 0, b.n);
    while (bb.hasRemaining()) ch.write(bb);
  }

  private ByteBuf take() {
    ByteBuf b = pool.poll();
    if (b == null) return new ByteBuf(1 << 20);
    b.clear();
    return b;
  }

  private void release(ByteBuf b) {
    if (b.a.length <= (64 << 20)) pool.add(b);
  }

  private Chunk chunk(int c) {
    Worker w = workers.get();
    ByteBuf train = take(), unseen = take();
    int from = c * IMAGES_PER_CHUNK, to = Math.min(d.imageCount(), from + IMAGES_PER_CHUNK);
    for (int image = from; image < to; image++) w.relator.relate(image, w.stats, train, unseen, null);
    return new Chunk(train, unseen);
  }
}

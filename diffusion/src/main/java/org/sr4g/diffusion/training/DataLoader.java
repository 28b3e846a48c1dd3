package org.sr4g.diffusion.training;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongUnaryOperator;
import org.sr4g.UserInputException;

/**
 * An endless, deterministic stream of preprocessed examples. Position {@code p} of the stream is example
 * {@code perm(epoch)[p mod n]} of epoch {@code p / n}, where {@code perm} is a Fisher–Yates shuffle keyed by
 * (seed, epoch); every random choice for that position (caption of a per-image example, crop offset, flip) comes from
 * a generator keyed by (seed, p). So the stream is a pure function of the seed, and the whole data state a
 * checkpoint needs is one number, the next position — resuming from it gives exactly the same examples.
 *
 * <p>Decoding runs on {@code workers} background threads; at most {@code prefetch} examples are in flight (a bounded
 * queue of futures, consumed in order). Time the training thread spends waiting for the head of the queue is
 * accumulated as data-wait time. An image that is missing or unreadable is skipped (counted, named in
 * {@link #skippedFiles()}) and the next position is used instead; since which files fail does not depend on timing,
 * this keeps the stream deterministic.
 */
public final class DataLoader implements AutoCloseable {
  public record Example(float[] pixels, String caption, String relation) {}

  /** pixels: [B, 3, res, res] row-major; {@code nextPosition}: the cursor to store in a checkpoint. */
  public record Batch(float[] pixels, List<String> captions, List<String> relations, long nextPosition) {}

  private record Slot(long position, Future<Example> future) {}

  private final List<List<TrainRow>> examples;
  private final Path images;
  private final int res;
  private final boolean randomCrop;
  private final boolean randomFlip;
  private final long seed;
  private final int prefetch;
  private final LongUnaryOperator streamPosition;
  private final ExecutorService pool;
  private final ArrayDeque<Slot> queue = new ArrayDeque<>();
  private long nextToSubmit;
  private long nextPosition;
  private long waitNanos;
  private long skips;
  private long consecutiveSkips;
  private final Set<String> skippedFiles = new LinkedHashSet<>();
  private int[] permutation;
  private long permutationEpoch = -1;

  private long maxPixels = ImagePrep.DEFAULT_MAX_PIXELS;

  public DataLoader(List<List<TrainRow>> examples, Path images, int res, boolean randomCrop, boolean randomFlip,
      long seed, int workers, int prefetch, long startPosition) {
    this(examples, images, res, randomCrop, randomFlip, seed, workers, prefetch, startPosition, p -> p);
  }

  /**
   * A loader that reads only some positions of the stream: its {@code q}-th example is stream position
   * {@code streamPosition(q)} (one rank of a data-parallel run: {@code q·N + rank}); {@code startPosition} and
   * {@link Batch#nextPosition()} count this loader's own positions.
   */
  public DataLoader(List<List<TrainRow>> examples, Path images, int res, boolean randomCrop, boolean randomFlip,
      long seed, int workers, int prefetch, long startPosition, LongUnaryOperator streamPosition) {
    if (examples.isEmpty()) throw new UserInputException("no training examples");
    this.examples = List.copyOf(examples);
    this.images = images;
    this.res = res;
    this.randomCrop = randomCrop;
    this.randomFlip = randomFlip;
    this.seed = seed;
    this.prefetch = Math.max(1, prefetch);
    this.nextToSubmit = startPosition;
    this.nextPosition = startPosition;
    this.streamPosition = streamPosition;
    this.pool = Executors.newFixedThreadPool(Math.max(1, workers), r -> {
      Thread t = new Thread(r, "sr4g-data");
      t.setDaemon(true); // never keeps the JVM alive after training stops
      return t;
    });
  }

  /** Images of more pixels than this are refused before decoding ({@code --max-image-pixels}). */
  public DataLoader maxImagePixels(long max) {
    this.maxPixels = max;
    return this;
  }

  /** The next {@code size} readable examples. */
  public Batch next(int size) {
    float[] pixels = new float[size * 3 * res * res];
    List<String> captions = new ArrayList<>(size);
    List<String> relations = new ArrayList<>(size);
    int filled = 0;
    while (filled < size) {
      fill();
      Slot s = queue.removeFirst();
      long t0 = System.nanoTime();
      Example e;
      try {
        e = s.future().get();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for data", ex);
      } catch (ExecutionException ex) {
        throw ex.getCause() instanceof RuntimeException re ? re : new IllegalStateException(ex.getCause());
      }
      waitNanos += System.nanoTime() - t0;
      nextPosition = s.position() + 1;
      if (e == null) {
        skips++;
        if (++consecutiveSkips >= examples.size())
          throw new UserInputException("none of the " + examples.size() + " training images under " + images
              + " could be read (first skipped: " + skippedFiles.iterator().next() + ")");
        continue;
      }
      consecutiveSkips = 0;
      System.arraycopy(e.pixels(), 0, pixels, filled * 3 * res * res, 3 * res * res);
      captions.add(e.caption());
      relations.add(e.relation());
      filled++;
    }
    return new Batch(pixels, captions, relations, nextPosition);
  }

  private void fill() {
    while (queue.size() < prefetch) {
      long p = nextToSubmit++, g = streamPosition.applyAsLong(p);
      List<TrainRow> ex = examples.get(exampleAt(g));
      queue.addLast(new Slot(p, pool.submit(() -> load(g, ex))));
    }
  }

  private int exampleAt(long p) {
    int n = examples.size();
    long epoch = p / n;
    if (epoch != permutationEpoch) {
      permutation = shuffle(n, mix(seed, epoch, 0x5348554646L));
      permutationEpoch = epoch;
    }
    return permutation[(int) (p % n)];
  }

  static int[] shuffle(int n, long key) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) a[i] = i;
    SplittableRandom r = new SplittableRandom(key);
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  private Example load(long p, List<TrainRow> ex) {
    SplittableRandom r = new SplittableRandom(mix(seed, p, 0x44415441L));
    TrainRow row = ex.size() == 1 ? ex.get(0) : ex.get(r.nextInt(ex.size()));
    Path file = TrainData.image(images, row); // refused outside --images or when not a regular file
    BufferedImage img = file == null ? null : ImagePrep.decode(file, maxPixels);
    if (img == null) {
      synchronized (skippedFiles) {
        skippedFiles.add(row.fileName());
      }
      return null;
    }
    int[] rs = ImagePrep.resizedSize(img.getWidth(), img.getHeight(), res);
    int x0 = randomCrop ? r.nextInt(rs[0] - res + 1) : (rs[0] - res) / 2;
    int y0 = randomCrop ? r.nextInt(rs[1] - res + 1) : (rs[1] - res) / 2;
    boolean flip = randomFlip && r.nextBoolean();
    String caption = row.caption(), relation = row.relation();
    if (flip) {
      FlipRule.Flipped f = FlipRule.flip(caption, relation);
      caption = f.caption();
      relation = f.relation();
    }
    return new Example(ImagePrep.prepare(img, res, x0, y0, flip), caption, relation);
  }

  /** SplitMix64-style mixing of a seed with two values: independent streams per (seed, a, b). */
  public static long mix(long seed, long a, long b) {
    long z = seed * 0x9E3779B97F4A7C15L + a * 0xC2B2AE3D27D4EB4FL + b;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  public long dataWaitNanos() {
    return waitNanos;
  }

  public long skips() {
    return skips;
  }

  public List<String> skippedFiles() {
    synchronized (skippedFiles) {
      return List.copyOf(skippedFiles);
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}

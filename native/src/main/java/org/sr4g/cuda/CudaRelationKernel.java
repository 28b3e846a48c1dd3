package org.sr4g.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.sr4g.geometry.BoxTable;
import org.sr4g.relations.Relation;
import org.sr4g.relations.RelationKernel;
import org.sr4g.relations.RelationRules;

/**
 * The relation kernel on cuda:0: {@code sr4g_relations} from sr4g_kernels.cu applied to a {@link BoxTable}, one GPU
 * thread per ordered pair. The table's normalised columns are copied as they are, and the tolerance and every mask
 * bit come from {@link RelationRules#TOLERANCE} and {@link Relation#bit()}, so the kernel repeats only the comparisons
 * of {@link RelationRules} (float32, same operations in the same order, compiled with -fmad=false); its masks equal
 * {@link RelationKernel#scalar()}'s bit for bit, which the GPU tests check on the tie-heavy grid and CI checks on the
 * CPU by compiling the same kernel source with g++.
 *
 * <p>{@link #relateAll} relates every pair in one launch; {@link #relate} (one subject) exists for the interface and
 * pays a copy and a launch per call. Device memory is allocated per call and freed before returning.
 */
public final class CudaRelationKernel implements RelationKernel {
  /** Floats per box in the kernel's input: x0, y0, x1, y1, cx, cy, bw, bh, area, each as one column of n floats. */
  static final int COLUMNS = 9;
  private static final int BLOCK = 256;

  private CudaRelationKernel() {}

  /**
   * The kernel on this machine's first GPU.
   *
   * @throws IllegalStateException with the reason (no driver, no device, no fatbin in this build) when it cannot run
   */
  public static CudaRelationKernel open() {
    String why = Kernels.unavailableReason();
    if (why != null) throw new IllegalStateException("GPU relation kernel unavailable: " + why);
    return new CudaRelationKernel();
  }

  /** Why {@link #open()} would fail here, or null when the GPU kernel can run. */
  public static String unavailableReason() {
    return Kernels.unavailableReason();
  }

  @Override
  public String name() {
    return "cuda";
  }

  @Override
  public void relate(BoxTable boxes, int subject, int[] out) {
    if (subject < 0 || subject >= boxes.size()) throw new IndexOutOfBoundsException("subject " + subject + " of " + boxes.size());
    if (out.length < boxes.paddedSize())
      throw new IllegalArgumentException("relate needs " + boxes.paddedSize() + " entries, got " + out.length);
    launch(boxes, subject, 1, out, null);
  }

  @Override
  public void relateAll(BoxTable boxes, int[] out) {
    relateAll(boxes, out, null);
  }

  /** As {@link #relateAll(BoxTable, int[])}; when {@code kernelMillis} is non-null, [0] receives the kernel's time. */
  public void relateAll(BoxTable boxes, int[] out, float[] kernelMillis) {
    int n = boxes.size();
    if ((long) n * n > out.length)
      throw new IllegalArgumentException("relateAll needs " + (long) n * n + " entries for " + n + " boxes, got " + out.length);
    if (n > 0) launch(boxes, 0, n, out, kernelMillis);
  }

  /** Relates subjects [first, first + subjects) with every box; writes {@code subjects * n} masks from out[0]. */
  private static void launch(BoxTable boxes, int first, int subjects, int[] out, float[] kernelMillis) {
    int n = boxes.size();
    long pairs = (long) subjects * n;
    CudaDriver d = CudaDriver.get();
    long f = Kernels.function(d, "sr4g_relations");
    try (Arena a = Arena.ofConfined(); DeviceBuffer in = new DeviceBuffer(d, 4L * COLUMNS * n);
        DeviceBuffer masks = new DeviceBuffer(d, 4 * pairs); DeviceEvents events = new DeviceEvents(d)) {
      d.copyToDevice(in.address, a.allocateFrom(JAVA_FLOAT, columns(boxes)));
      int grid = (int) ((pairs + BLOCK - 1) / BLOCK);
      d.recordEvent(events.start, 0);
      d.launch(f, grid, BLOCK, 0, a.allocateFrom(JAVA_LONG, in.address), a.allocateFrom(JAVA_INT, n),
          a.allocateFrom(JAVA_INT, first), a.allocateFrom(JAVA_INT, subjects),
          a.allocateFrom(JAVA_FLOAT, RelationRules.TOLERANCE), a.allocateFrom(JAVA_INT, bitsInStructOrder()),
          a.allocateFrom(JAVA_LONG, masks.address));
      d.recordEvent(events.end, 0);
      float ms = d.elapsedMillis(events.start, events.end);
      if (kernelMillis != null) kernelMillis[0] = ms;
      MemorySegment host = a.allocate(JAVA_INT, pairs);
      d.copyToHost(host, masks.address);
      MemorySegment.copy(host, JAVA_INT, 0, out, 0, (int) pairs);
    }
  }

  /**
   * The kernel's {@code sr4g_relation_bits} argument: each relation's {@link Relation#bit()}, named one by one in the
   * struct's field order (so reordering {@link Relation} cannot break the kernel; reordering the struct fails the
   * source test).
   */
  static int[] bitsInStructOrder() {
    return new int[] {
      Relation.LEFT_OF.bit(), Relation.RIGHT_OF.bit(), Relation.ABOVE.bit(), Relation.BELOW.bit(),
      Relation.SURROUNDING.bit(), Relation.INSIDE.bit(), Relation.OVERLAPPING.bit(), Relation.SEPARATED.bit(),
      Relation.WIDER_THAN.bit(), Relation.NARROWER_THAN.bit(), Relation.TALLER_THAN.bit(),
      Relation.SHORTER_THAN.bit(), Relation.LARGER_THAN.bit(), Relation.SMALLER_THAN.bit()
    };
  }

  /** The kernel's {@code boxes} argument: the table's first n entries of each column, columns one after another. */
  static float[] columns(BoxTable b) {
    int n = b.size();
    float[] cols = new float[COLUMNS * n];
    float[][] source = {b.x0(), b.y0(), b.x1(), b.y1(), b.cx(), b.cy(), b.bw(), b.bh(), b.area()};
    for (int c = 0; c < COLUMNS; c++) System.arraycopy(source[c], 0, cols, c * n, n);
    return cols;
  }

  /** cuMemAlloc'd bytes freed on close; at least 4 bytes so that an empty table still gets a valid pointer. */
  private static final class DeviceBuffer implements AutoCloseable {
    private final CudaDriver d;
    final long address;

    DeviceBuffer(CudaDriver d, long bytes) {
      this.d = d;
      this.address = d.malloc(Math.max(4, bytes));
    }

    @Override
    public void close() {
      d.free(address);
    }
  }

  /** A start and an end event around the launch, destroyed on close. */
  private static final class DeviceEvents implements AutoCloseable {
    private final CudaDriver d;
    final long start;
    final long end;

    DeviceEvents(CudaDriver d) {
      this.d = d;
      this.start = d.createEvent();
      long e;
      try {
        e = d.createEvent();
      } catch (RuntimeException x) {
        d.destroyEvent(start);
        throw x;
      }
      this.end = e;
    }

    @Override
    public void close() {
      d.destroyEvent(start);
      d.destroyEvent(end);
    }
  }
}

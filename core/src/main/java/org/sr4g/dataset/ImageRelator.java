package org.sr4g.dataset;

import org.sr4g.coco.CocoDataset;
import org.sr4g.geometry.BoxTable;
import org.sr4g.relations.Relation;
import org.sr4g.relations.RelationKernel;

/**
 * The training pass for one image: selects the eligible boxes, relates every ordered pair, chooses the emitted
 * relation(s), counts them and renders the train.jsonl rows. {@code sr4g generate} ({@link TrainPass}) and the Spark job run
 * exactly this code, image by image. Not thread-safe: one instance per thread (it owns scratch arrays).
 */
public final class ImageRelator {
  /** Told about every rendered row (generate picks the train_unseen.jsonl rows with it, the Spark job cuts rows). */
  public interface RowListener {
    /**
     * @param start where the row starts in the buffer (it ends at {@code rows.size()}, newline included)
     * @param subjectBox the subject's box index in the dataset
     * @param subjectCategory dense index in the merged category table
     * @param objectBox the object's box index in the dataset
     * @param objectCategory dense index in the merged category table
     * @param seen both categories are seen (the row is also a train_unseen.jsonl row)
     */
    void row(
        ByteBuf rows, int start, int subjectBox, int subjectCategory, int relation, int objectBox, int objectCategory,
        boolean seen);
  }

  private final CocoDataset d;
  private final GenerateOptions opt;
  private final int[] toMerged;
  private final boolean[] unseenMerged;
  private final RelationKernel kernel;
  private final RowRenderer renderer;
  private final Eligibility eligibility;
  private final BoxTable table;
  private final int[] boxes;
  private final int[] masks;
  private final RowRenderer.ImagePieces pieces = new RowRenderer.ImagePieces();

  /**
   * @param toMerged maps {@code d}'s dense category indices to the merged table's (see {@link CategoryTable#mapping})
   * @param unseenMerged unseen flags by merged category index
   */
  public ImageRelator(CocoDataset d, GenerateOptions opt, int[] toMerged, boolean[] unseenMerged, RelationKernel kernel) {
    this(d, opt, toMerged, unseenMerged, kernel, new RowRenderer(d), Eligibility.maxBoxesPerImage(d));
  }

  ImageRelator(
      CocoDataset d, GenerateOptions opt, int[] toMerged, boolean[] unseenMerged, RelationKernel kernel, RowRenderer renderer,
      int maxBoxes) {
    this.d = d;
    this.opt = opt;
    this.toMerged = toMerged;
    this.unseenMerged = unseenMerged;
    this.kernel = kernel;
    this.renderer = renderer;
    this.eligibility = new Eligibility(opt.minArea(), opt.maxObjects());
    this.table = new BoxTable(maxBoxes);
    this.boxes = new int[maxBoxes];
    this.masks = new int[BoxTable.padded(maxBoxes)];
  }

  /**
   * Counts what {@link #relate} would emit for image {@code image} into {@code st}, rendering nothing (the Spark job's
   * statistics pass).
   */
  public void count(int image, PairStats st) {
    pairs(image, st, null, null);
  }

  /**
   * Relates image {@code image} of the dataset: counts into {@code st}, appends its train.jsonl rows to {@code rows}
   * and tells {@code listener} about each (which of them also belong in train_unseen.jsonl, among others).
   */
  public void relate(int image, PairStats st, ByteBuf rows, RowListener listener) {
    pairs(image, st, rows, listener);
  }

  /** Both passes: {@code rows == null} counts only. */
  private void pairs(int image, PairStats st, ByteBuf rows, RowListener listener) {
    int n = eligibility.select(d, image, table, boxes, st.dropped);
    st.eligibleBoxes += n;
    for (int k = 0; k < n; k++) st.eligibleBoxesByCategory[toMerged[d.boxCategory(boxes[k])]]++;
    if (n < 2) return;
    final int relMask = opt.relationMask();
    boolean rendered = false;
    long imageId = d.imageId(image);
    boolean anyPair = false;
    for (int s = 0; s < n; s++) {
      int sb = boxes[s];
      int sc = d.boxCategory(sb);
      kernel.relate(table, s, masks);
      long prefix = opt.emitAll() ? 0 : Emission.subjectPrefix(opt.seed(), imageId, d.annotationId(sb));
      for (int o = 0; o < n; o++) {
        if (o == s) continue;
        int ob = boxes[o];
        int oc = d.boxCategory(ob);
        if (sc == oc && !opt.sameCategory()) continue;
        anyPair = true;
        st.eligiblePairs++;
        int mask = masks[o] & relMask;
        if (mask == 0) {
          st.pairsWithoutRelation++;
          continue;
        }
        if (!rendered && rows != null) {
          renderer.pieces(image, boxes, n, pieces);
          rendered = true;
        }
        int ms = toMerged[sc], mo = toMerged[oc];
        boolean seen = !unseenMerged[ms] && !unseenMerged[mo];
        if (opt.emitAll()) {
          for (int m = mask; m != 0; m &= m - 1) {
            emit(st, rows, listener, seen, s, o, Integer.numberOfTrailingZeros(m), ms, mo);
          }
        } else {
          emit(st, rows, listener, seen, s, o, Emission.chooseOne(prefix, d.annotationId(ob), mask), ms, mo);
        }
      }
    }
    if (anyPair) st.imagesWithPairs++;
  }

  /** One row for the image's s-th and o-th eligible boxes. */
  private void emit(PairStats st, ByteBuf rows, RowListener listener, boolean seen, int s, int o, int r, int ms, int mo) {
    st.rows++;
    st.rowsByRelation[r]++;
    st.triplets[TripletKey.encode(ms, r, mo, st.categories)]++;
    st.subjectRowsByCategory[ms]++;
    st.objectRowsByCategory[mo]++;
    if (seen) {
      st.seenPairRows++;
      st.seenPairRowsByRelation[r]++;
    }
    if (rows == null) return;
    int start = rows.n;
    renderer.row(rows, pieces, s, r, o);
    if (listener != null) listener.row(rows, start, boxes[s], ms, r, boxes[o], mo, seen);
  }
}

package org.sr4g.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.CocoReader;
import org.sr4g.coco.CocoSource;
import org.sr4g.geometry.BoxTable;
import org.sr4g.synth.CocoSynth;

/** Inputs shared by the benchmarks: a synthetic COCO file with train2017's statistics, in memory. */
public final class BenchData {
  private BenchData() {}

  public static byte[] cocoJson(int images, long seed) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(images * 4000);
    try {
      CocoSynth.builder().images(images).seed(seed).build().write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public static CocoDataset dataset(byte[] json) {
    return new CocoReader(false).read(List.of(CocoSource.ofBytes("bench", json)));
  }

  /** One table per image (non-crowd boxes), as the generator builds them. */
  public static List<BoxTable> tables(CocoDataset d) {
    List<BoxTable> out = new ArrayList<>();
    for (int i = 0; i < d.imageCount(); i++) {
      BoxTable t = new BoxTable();
      for (int b = d.firstBox(i); b < d.endBox(i); b++) {
        if (!d.crowd(b)) t.addCoco(d.x(b), d.y(b), d.w(b), d.h(b), d.imageWidth(i), d.imageHeight(i));
      }
      if (t.size() >= 2) out.add(t);
    }
    return out;
  }
}

package org.sr4g.synth;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.coco.CocoCategories.Category;
import org.sr4g.coco.CocoCategories;
import org.sr4g.io.AtomicFiles;
import org.sr4g.io.OutputRules;

/**
 * Writes a synthetic COCO instance-annotation file ({@code instances_*.json} layout, same fields in the same order,
 * same separators as the real files) whose statistics mimic COCO train2017: with {@code images(118287)} it has about
 * 860K annotations and weighs about 440 MB, like the real 448 MB file. See {@code docs/synth.md} for the statistics.
 *
 * <p>The output is a pure function of (images, seed): byte-identical on every run, JDK and machine. It is streamed
 * (constant memory, whatever the size) to any {@link OutputStream}, or to a file through a temporary file and an
 * atomic rename.
 *
 * <pre>{@code
 * CocoSynth.Stats s = CocoSynth.builder().images(2000).seed(7).build().write(outputStream);
 * }</pre>
 */
public final class CocoSynth {
  /** The largest supported {@code images} (ids stay below 10^12, the 12-digit file names). */
  public static final int MAX_IMAGES = 100_000_000;

  private static final String[][] LICENSES = {
    {"http://creativecommons.org/licenses/by-nc-sa/2.0/", "Attribution-NonCommercial-ShareAlike License"},
    {"http://creativecommons.org/licenses/by-nc/2.0/", "Attribution-NonCommercial License"},
    {"http://creativecommons.org/licenses/by-nc-nd/2.0/", "Attribution-NonCommercial-NoDerivs License"},
    {"http://creativecommons.org/licenses/by/2.0/", "Attribution License"},
    {"http://creativecommons.org/licenses/by-sa/2.0/", "Attribution-ShareAlike License"},
    {"http://creativecommons.org/licenses/by-nd/2.0/", "Attribution-NoDerivs License"},
    {"http://flickr.com/commons/usage/", "No known copyright restrictions"},
    {"http://www.usa.gov/copyright.shtml", "United States Government Work"}
  };

  private final int images;
  private final long seed;

  private CocoSynth(Builder b) {
    this.images = b.images;
    this.seed = b.seed;
  }

  public static Builder builder() {
    return new Builder();
  }

  public int images() {
    return images;
  }

  public long seed() {
    return seed;
  }

  /** Options: {@code images} (default 118,287, the size of train2017) and {@code seed} (default 0). */
  public static final class Builder {
    private int images = CocoCategories.TRAIN2017_IMAGES;
    private long seed;

    private Builder() {}

    public Builder images(int images) {
      this.images = images;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** @throws UserInputException when {@code images} is outside [1, {@link #MAX_IMAGES}] */
    public CocoSynth build() {
      if (images < 1 || images > MAX_IMAGES) {
        throw new UserInputException(
            "number of images must be between 1 and " + MAX_IMAGES + ", got " + images);
      }
      return new CocoSynth(this);
    }
  }

  /** What was written. */
  public record Stats(int images, long annotations, long crowdAnnotations, long emptyImages, long bytes) {}

  /**
   * Writes the file to {@code file} through a temporary file in the same directory and an atomic rename, so readers
   * never see a partial file.
   *
   * @throws UserInputException when the directory of {@code file} does not exist
   */
  public Stats writeTo(Path file) throws IOException {
    Path abs = OutputRules.checkFile(file);
    Stats[] stats = new Stats[1];
    AtomicFiles.write(abs, out -> stats[0] = write(out));
    return stats[0];
  }

  /** Streams the whole file to {@code out} (buffered internally; {@code out} is flushed, not closed). */
  public Stats write(OutputStream out) throws IOException {
    AsciiJsonWriter w = new AsciiJsonWriter(out);
    SynthStatistics.ImageIds ids = new SynthStatistics.ImageIds(images, seed);
    writeHeader(w);

    w.raw(",\"images\": [");
    SplitMix64 rng;
    for (int i = 0; i < images; i++) {
      if (i > 0) w.ch(',');
      rng = SplitMix64.of(seed, 1, i);
      long id = ids.id(i);
      SynthStatistics.Size size = SynthStatistics.imageSize(rng);
      int license = SynthStatistics.license(rng);
      w.raw("{\"license\": ").num(license);
      w.raw(",\"file_name\": \"").padded(id, 12).raw(".jpg\"");
      w.raw(",\"coco_url\": \"http://images.cocodataset.org/train2017/").padded(id, 12).raw(".jpg\"");
      w.raw(",\"height\": ").num(size.height()).raw(",\"width\": ").num(size.width());
      w.raw(",\"date_captured\": \"2013-11-").padded(14 + rng.nextInt(12), 2).ch(' ');
      w.padded(rng.nextInt(24), 2).ch(':').padded(rng.nextInt(60), 2).ch(':').padded(rng.nextInt(60), 2).ch('"');
      w.raw(",\"flickr_url\": \"http://farm").num(1 + rng.nextInt(9)).raw(".staticflickr.com/");
      w.num(rng.nextInt(1000, 9999)).ch('/').num(1_000_000_000L + (rng.nextLong() >>> 1) % 9_000_000_000L).ch('_');
      long secret = rng.nextLong();
      for (int k = 0; k < 10; k++) w.ch(HEX[(int) (secret >>> (4 * k)) & 15]);
      w.raw("_z.jpg\",\"id\": ").num(id).ch('}');
    }

    w.raw("],\"annotations\": [");
    SynthAnnotations ann = new SynthAnnotations(w, seed);
    for (int i = 0; i < images; i++) {
      SynthStatistics.Size size = SynthStatistics.imageSize(SplitMix64.of(seed, 1, i));
      ann.image(i, ids.id(i), size.width(), size.height());
    }

    w.raw("],\"categories\": [");
    List<Category> categories = SynthStatistics.CATEGORIES;
    for (int c = 0; c < categories.size(); c++) {
      Category cat = categories.get(c);
      if (c > 0) w.ch(',');
      w.raw("{\"supercategory\": ").string(cat.supercategory()).raw(",\"id\": ").num(cat.id());
      w.raw(",\"name\": ").string(cat.name()).ch('}');
    }
    w.raw("]}");
    w.flush();
    return new Stats(images, ann.count(), ann.crowd(), ann.emptyImages(), w.bytes());
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private void writeHeader(AsciiJsonWriter w) throws IOException {
    w.raw("{\"info\": {\"description\": ")
        .string("sr4g synthetic COCO-style instances (images=" + images + ", seed=" + seed + ")")
        .raw(",\"url\": \"http://cocodataset.org\",\"version\": \"1.0\",\"year\": 2017")
        .raw(",\"contributor\": \"sr4g synth\",\"date_created\": \"2017/09/01\"}");
    w.raw(",\"licenses\": [");
    for (int i = 0; i < LICENSES.length; i++) {
      if (i > 0) w.ch(',');
      w.raw("{\"url\": ").string(LICENSES[i][0]).raw(",\"id\": ").num(i + 1);
      w.raw(",\"name\": ").string(LICENSES[i][1]).ch('}');
    }
    w.ch(']');
  }

}

package org.sr4g.coco;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import org.sr4g.UserInputException;
import org.sr4g.io.Escape;

/**
 * Streams COCO instance annotation files with Jackson's {@link JsonParser}: no tree of the file is ever built and
 * {@code segmentation} payloads (most of the bytes) are skipped token by token without being materialized.
 *
 * <p>What is an error and what is counted: malformed JSON, a missing or mistyped required field, duplicate ids,
 * conflicting categories and (unless lenient) annotations whose image or category is unknown are errors naming the
 * file, the position and the record id. Boxes with non-finite values or non-positive size are dropped and counted.
 */
public final class CocoReader {
  private static final JsonFactory JSON =
      JsonFactory.builder()
          // NaN/Infinity in a bbox is bad data to count and drop, not a reason to reject the whole file.
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
          .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
          .build();

  private final boolean lenient;
  private LongConsumer progress = b -> {};
  private int parallelism = 1;

  public CocoReader(boolean lenient) {
    this.lenient = lenient;
  }

  /** Receives the number of bytes read so far (across all sources), for a progress bar. */
  public CocoReader onProgress(LongConsumer bytesRead) {
    this.progress = bytesRead;
    return this;
  }

  /**
   * Parses one large file with up to {@code threads} parsers at once (the annotations array is cut at element
   * boundaries by {@link AnnotationSplitter}). Results are identical to a serial read; see {@link #read}.
   */
  public CocoReader parallelism(int threads) {
    this.parallelism = Math.max(1, threads);
    return this;
  }

  public CocoDataset read(List<CocoSource> sources) {
    Builder b = null;
    long before = 0;
    for (int f = 0; f < sources.size(); f++) {
      CocoSource src = sources.get(f);
      Builder part = null;
      if (parallelism > 1 && src.size() >= minParallelBytes) part = readParallel(src, f, before);
      if (part == null) part = readSerial(src, f, before, 0, src.size(), null, null);
      part.checkSections(src);
      if (b == null) b = part;
      else b.append(part);
      before += src.size();
    }
    if (b == null) b = new Builder();
    return b.build(sources, lenient, true);
  }

  /** Files smaller than this are parsed by one thread: splitting them costs more than it saves. */
  long minParallelBytes = 8L << 20;

  private Builder readSerial(CocoSource src, int f, long base, long from, long to, byte[] prefix, byte[] suffix) {
    Builder b = new Builder();
    try (InputStream raw = prefix == null && from == 0 && to == src.size() ? src.open() : spliced(src, from, to, prefix, suffix);
        InputStream in = new CountingInputStream(raw, n -> progress.accept(base + from + n));
        JsonParser p = JSON.createParser(in)) {
      try {
        new FileParser(src, f, p, b).parse();
      } catch (JsonParseException | StreamConstraintsException e) {
        // Some limits (number length, nesting) report no location of their own: the parser's is where it stopped.
        JsonLocation at = e.getLocation() != null ? e.getLocation() : p.currentLocation();
        throw new UserInputException(src + ": " + where(at) + ": malformed JSON: " + e.getOriginalMessage(), e);
      }
    } catch (IOException e) {
      throw new UserInputException(src + ": cannot read: " + e.getMessage(), e);
    } catch (UncheckedIOException e) {
      throw new UserInputException(src + ": cannot read: " + e.getCause().getMessage(), e);
    }
    return b;
  }

  private static InputStream spliced(CocoSource src, long from, long to, byte[] prefix, byte[] suffix) throws IOException {
    List<InputStream> parts = new ArrayList<>();
    if (prefix != null) parts.add(new ByteArrayInputStream(prefix));
    parts.add(src.open(from, to));
    if (suffix != null) parts.add(new ByteArrayInputStream(suffix));
    return new SequenceInputStream(java.util.Collections.enumeration(parts));
  }

  /**
   * Cuts the annotations array and parses the parts concurrently: part 0 is the file up to the first cut, closed with
   * {@code ]}}; the others are wrapped as {@code {"annotations":[ ... ]}}, the last one running to the end of the file
   * (so sections after the annotations are read too). Returns null when the file cannot be split or any part fails:
   * the caller then reads serially, which also gives the canonical error message.
   */
  private Builder readParallel(CocoSource src, int f, long base) {
    long[] cuts;
    try (InputStream in = src.open()) {
      cuts = AnnotationSplitter.cuts(in, src.size(), parallelism);
    } catch (IOException | RuntimeException e) {
      return null;
    }
    if (cuts.length == 0) return null;
    int parts = cuts.length + 1;
    ExecutorService pool = Executors.newFixedThreadPool(parts, r -> {
      Thread t = new Thread(r, "sr4g-read");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<Builder>> futures = new ArrayList<>();
      for (int k = 0; k < parts; k++) {
        long from = k == 0 ? 0 : cuts[k - 1] + 1; // skip the comma
        long to = k == parts - 1 ? src.size() : cuts[k];
        byte[] prefix = k == 0 ? null : OPEN_ANNOTATIONS;
        byte[] suffix = k == parts - 1 ? null : CLOSE_ANNOTATIONS;
        LongConsumer quiet = n -> {};
        futures.add(pool.submit(() -> new CocoReader(lenient).onProgress(quiet).readSerial(src, f, base, from, to, prefix, suffix)));
      }
      Builder all = null;
      for (Future<Builder> fu : futures) {
        Builder part = fu.get();
        if (all == null) all = part;
        else all.append(part);
      }
      progress.accept(base + src.size());
      return all;
    } catch (ExecutionException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } finally {
      pool.shutdownNow();
    }
  }

  private static final byte[] OPEN_ANNOTATIONS = "{\"annotations\":[".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] CLOSE_ANNOTATIONS = "]}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  static String where(JsonLocation loc) {
    if (loc == null) return "unknown position";
    return "line " + loc.getLineNr() + ", column " + loc.getColumnNr();
  }

  /** Parses one file into the shared builder. */
  private static final class FileParser {
    private final CocoSource src;
    private final int fileIndex;
    private final JsonParser p;
    private final Builder b;
    /** The bbox as compact JSON bytes, e.g. {@code [1.5,2,3,4]} (JSON numbers are ASCII). */
    private final byte[] numberScratch = new byte[4 * 64 + 8];

    FileParser(CocoSource src, int fileIndex, JsonParser p, Builder b) {
      this.src = src;
      this.fileIndex = fileIndex;
      this.p = p;
      this.b = b;
    }

    private UserInputException error(String what) {
      return new UserInputException(src + ": " + where(p.currentTokenLocation()) + ": " + what);
    }

    void parse() throws IOException {
      if (p.nextToken() != JsonToken.START_OBJECT) throw error("expected a JSON object at the top level (a COCO instances file)");
      boolean sawImages = false, sawAnnotations = false, sawCategories = false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "images":
            expectArray(t, "images");
            while (p.nextToken() != JsonToken.END_ARRAY) image();
            sawImages = true;
            break;
          case "annotations":
            expectArray(t, "annotations");
            while (p.nextToken() != JsonToken.END_ARRAY) annotation();
            sawAnnotations = true;
            break;
          case "categories":
            expectArray(t, "categories");
            while (p.nextToken() != JsonToken.END_ARRAY) category();
            sawCategories = true;
            break;
          default:
            p.skipChildren();
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT) throw error("unexpected content at top level");
      if (p.nextToken() != null) throw error("trailing content after the top-level object");
      b.sawImages |= sawImages;
      b.sawAnnotations |= sawAnnotations;
      b.sawCategories |= sawCategories;
    }

    /** A lone UTF-16 surrogate ("\\ud800" in the JSON) is no character: it cannot be written to train.jsonl as UTF-8. */
    private void requireUnicode(String s, String what) {
      if (Escape.hasLoneSurrogate(s))
        throw error(what + " " + Escape.quote(s) + " holds an unpaired UTF-16 surrogate (not a Unicode character)");
    }

    private void expectArray(JsonToken t, String name) {
      if (t != JsonToken.START_ARRAY) throw error("\"" + name + "\" must be an array");
    }

    private void expectObject(String what) {
      if (p.currentToken() != JsonToken.START_OBJECT) throw error("each entry of \"" + what + "\" must be an object");
    }

    private long longValue(String field, String record) throws IOException {
      if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) throw error(record + ": \"" + field + "\" must be an integer");
      return p.getLongValue();
    }

    private void image() throws IOException {
      expectObject("images");
      JsonLocation at = p.currentTokenLocation();
      long id = Long.MIN_VALUE;
      String fileName = null, wText = null, hText = null;
      double width = Double.NaN, height = Double.NaN;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String f = p.currentName();
        JsonToken t = p.nextToken();
        switch (f) {
          case "id":
            id = longValue("id", "image");
            break;
          case "file_name":
            if (t != JsonToken.VALUE_STRING) throw error("image: \"file_name\" must be a string");
            fileName = p.getText();
            requireUnicode(fileName, "image: \"file_name\"");
            break;
          case "width":
            if (!t.isNumeric()) throw error("image: \"width\" must be a number");
            width = p.getDoubleValue();
            wText = p.getText();
            break;
          case "height":
            if (!t.isNumeric()) throw error("image: \"height\" must be a number");
            height = p.getDoubleValue();
            hText = p.getText();
            break;
          default:
            p.skipChildren();
        }
      }
      String rec = "image" + (id == Long.MIN_VALUE ? "" : " id " + id);
      String pos = src + ": " + where(at) + ": ";
      if (id == Long.MIN_VALUE) throw new UserInputException(pos + "image without \"id\"");
      if (fileName == null) throw new UserInputException(pos + rec + " has no \"file_name\"");
      if (wText == null || hText == null) throw new UserInputException(pos + rec + " has no \"width\"/\"height\"");
      if (!(width > 0 && height > 0 && Double.isFinite(width) && Double.isFinite(height))) {
        throw new UserInputException(pos + rec + " has invalid size " + wText + " x " + hText + " (must be positive)");
      }
      b.addImage(id, fileName, wText, hText, (float) width, (float) height, fileIndex);
    }

    private void category() throws IOException {
      expectObject("categories");
      JsonLocation at = p.currentTokenLocation();
      long id = Long.MIN_VALUE;
      String name = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String f = p.currentName();
        JsonToken t = p.nextToken();
        if (f.equals("id")) {
          id = longValue("id", "category");
        } else if (f.equals("name")) {
          if (t != JsonToken.VALUE_STRING) throw error("category: \"name\" must be a string");
          name = p.getText();
          requireUnicode(name, "category: \"name\"");
        } else {
          p.skipChildren();
        }
      }
      String pos = src + ": " + where(at) + ": ";
      if (id == Long.MIN_VALUE || name == null) throw new UserInputException(pos + "category without \"id\" or \"name\"");
      if (id < Integer.MIN_VALUE || id > Integer.MAX_VALUE) throw new UserInputException(pos + "category id " + id + " out of range");
      if (name.isBlank()) throw new UserInputException(pos + "category id " + id + " has an empty name");
      String prev = b.categories.putIfAbsent((int) id, name);
      if (prev != null && !prev.equals(name)) {
        throw new UserInputException(pos + "category id " + id + " is named \"" + name + "\" here but \"" + prev + "\" earlier");
      }
    }

    private void annotation() throws IOException {
      expectObject("annotations");
      JsonLocation at = p.currentTokenLocation();
      long id = Long.MIN_VALUE, imageId = Long.MIN_VALUE, categoryId = Long.MIN_VALUE;
      boolean crowd = false, haveBbox = false, finite = true;
      float x = 0, y = 0, w = 0, h = 0;
      int textLen = 0;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String f = p.currentName();
        JsonToken t = p.nextToken();
        switch (f) {
          case "id":
            id = longValue("id", "annotation");
            break;
          case "image_id":
            imageId = longValue("image_id", "annotation" + (id == Long.MIN_VALUE ? "" : " id " + id));
            break;
          case "category_id":
            categoryId = longValue("category_id", "annotation" + (id == Long.MIN_VALUE ? "" : " id " + id));
            break;
          case "iscrowd":
            if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) crowd = t == JsonToken.VALUE_TRUE;
            else if (t == JsonToken.VALUE_NUMBER_INT) crowd = p.getLongValue() != 0;
            else throw error("annotation: \"iscrowd\" must be 0, 1 or a boolean");
            break;
          case "bbox":
            if (t != JsonToken.START_ARRAY) throw error("annotation: \"bbox\" must be an array [x, y, w, h]");
            byte[] out = numberScratch;
            out[0] = '[';
            textLen = 1;
            float[] v = new float[4];
            int n = 0;
            for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
              if (e != JsonToken.VALUE_NUMBER_INT && e != JsonToken.VALUE_NUMBER_FLOAT) {
                throw error("annotation: \"bbox\" must hold 4 numbers");
              }
              if (n == 4) throw error("annotation: \"bbox\" has more than 4 numbers");
              // Parsed as float64 first, as JSON libraries do, then rounded to float32 (docs/relations.md).
              double d = p.getDoubleValue();
              v[n++] = (float) d;
              int len = p.getTextLength();
              if (textLen + len + 2 > out.length) throw error("annotation: \"bbox\" number too long");
              if (n > 1) out[textLen++] = ',';
              char[] chars = p.getTextCharacters();
              for (int k = 0, off = p.getTextOffset(); k < len; k++) out[textLen++] = (byte) chars[off + k];
            }
            if (n != 4) throw error("annotation: \"bbox\" has " + n + " numbers, expected 4");
            out[textLen++] = ']';
            x = v[0];
            y = v[1];
            w = v[2];
            h = v[3];
            finite = Float.isFinite(x) && Float.isFinite(y) && Float.isFinite(w) && Float.isFinite(h);
            haveBbox = true;
            break;
          default:
            // segmentation, area, ...: skipped without building anything.
            p.skipChildren();
        }
      }
      String pos = src + ": " + where(at) + ": ";
      if (id == Long.MIN_VALUE) throw new UserInputException(pos + "annotation without \"id\"");
      String rec = "annotation id " + id;
      if (imageId == Long.MIN_VALUE) throw new UserInputException(pos + rec + " has no \"image_id\"");
      if (categoryId == Long.MIN_VALUE) throw new UserInputException(pos + rec + " has no \"category_id\"");
      if (!haveBbox) throw new UserInputException(pos + rec + " has no \"bbox\"");
      if (!finite) {
        b.drop(DropReason.NON_FINITE);
        return;
      }
      if (!(w > 0 && h > 0)) {
        b.drop(DropReason.NON_POSITIVE_SIZE);
        return;
      }
      if (categoryId < Integer.MIN_VALUE || categoryId > Integer.MAX_VALUE) {
        throw new UserInputException(pos + rec + ": category_id " + categoryId + " out of range");
      }
      b.addAnnotation(id, imageId, (int) categoryId, x, y, w, h, crowd, numberScratch, 0, textLen, fileIndex);
    }
  }

  /** Growable columns filled while parsing; {@link #build} sorts, validates and freezes them. */
  static final class Builder {
    boolean sawImages, sawAnnotations, sawCategories;
    final Map<Integer, String> categories = new HashMap<>();
    long[] imageIds = new long[1024];
    String[] fileNames = new String[1024];
    String[] widthText = new String[1024], heightText = new String[1024];
    float[] imageW = new float[1024], imageH = new float[1024];
    byte[] imageFile = new byte[1024];
    int images;

    long[] annIds = new long[8192], annImage = new long[8192];
    int[] annCategory = new int[8192];
    float[] ax = new float[8192], ay = new float[8192], aw = new float[8192], ah = new float[8192];
    boolean[] annCrowd = new boolean[8192];
    byte[] annFile = new byte[8192];
    byte[] text = new byte[1 << 16];
    int[] textStart = new int[8193];
    int anns;
    final EnumMap<DropReason, Long> dropped = new EnumMap<>(DropReason.class);

    void drop(DropReason r) {
      dropped.merge(r, 1L, Long::sum);
    }

    void checkSections(CocoSource src) {
      List<String> missing = new ArrayList<>();
      if (!sawImages) missing.add("images");
      if (!sawAnnotations) missing.add("annotations");
      if (!sawCategories) missing.add("categories");
      if (!missing.isEmpty()) {
        throw new UserInputException(src + ": not a COCO instances file: missing top-level " + String.join(", ", missing));
      }
    }

    /** Adds everything another builder read (a part of the same file, or another file). */
    void append(Builder o) {
      sawImages |= o.sawImages;
      sawAnnotations |= o.sawAnnotations;
      sawCategories |= o.sawCategories;
      for (Map.Entry<Integer, String> e : o.categories.entrySet()) {
        String prev = categories.putIfAbsent(e.getKey(), e.getValue());
        if (prev != null && !prev.equals(e.getValue())) {
          throw new UserInputException(
              "category id " + e.getKey() + " is named \"" + e.getValue() + "\" in one input and \"" + prev + "\" in another");
        }
      }
      for (Map.Entry<DropReason, Long> e : o.dropped.entrySet()) dropped.merge(e.getKey(), e.getValue(), Long::sum);
      for (int i = 0; i < o.images; i++) {
        addImage(o.imageIds[i], o.fileNames[i], o.widthText[i], o.heightText[i], o.imageW[i], o.imageH[i], o.imageFile[i]);
      }
      for (int a = 0; a < o.anns; a++) {
        int from = o.textStart[a], len = o.textStart[a + 1] - from;
        addAnnotation(
            o.annIds[a], o.annImage[a], o.annCategory[a], o.ax[a], o.ay[a], o.aw[a], o.ah[a], o.annCrowd[a], o.text, from,
            len, o.annFile[a]);
      }
    }

    void addImage(long id, String file, String wt, String ht, float w, float h, int fileIndex) {
      if (images == imageIds.length) {
        int n = images * 2;
        imageIds = Arrays.copyOf(imageIds, n);
        fileNames = Arrays.copyOf(fileNames, n);
        widthText = Arrays.copyOf(widthText, n);
        heightText = Arrays.copyOf(heightText, n);
        imageW = Arrays.copyOf(imageW, n);
        imageH = Arrays.copyOf(imageH, n);
        imageFile = Arrays.copyOf(imageFile, n);
      }
      imageIds[images] = id;
      fileNames[images] = file;
      widthText[images] = wt;
      heightText[images] = ht;
      imageW[images] = w;
      imageH[images] = h;
      imageFile[images] = (byte) fileIndex;
      images++;
    }

    void addAnnotation(
        long id, long imageId, int categoryId, float x, float y, float w, float h, boolean crowd, byte[] bbox, int bboxFrom,
        int bboxLen, int fileIndex) {
      if (anns == annIds.length) {
        int n = anns * 2;
        annIds = Arrays.copyOf(annIds, n);
        annImage = Arrays.copyOf(annImage, n);
        annCategory = Arrays.copyOf(annCategory, n);
        ax = Arrays.copyOf(ax, n);
        ay = Arrays.copyOf(ay, n);
        aw = Arrays.copyOf(aw, n);
        ah = Arrays.copyOf(ah, n);
        annCrowd = Arrays.copyOf(annCrowd, n);
        annFile = Arrays.copyOf(annFile, n);
        textStart = Arrays.copyOf(textStart, n + 1);
      }
      int start = textStart[anns];
      if (start + bboxLen > text.length) text = Arrays.copyOf(text, Math.max(text.length * 2, start + bboxLen));
      System.arraycopy(bbox, bboxFrom, text, start, bboxLen);
      textStart[anns + 1] = start + bboxLen;
      annIds[anns] = id;
      annImage[anns] = imageId;
      annCategory[anns] = categoryId;
      ax[anns] = x;
      ay[anns] = y;
      aw[anns] = w;
      ah[anns] = h;
      annCrowd[anns] = crowd;
      annFile[anns] = (byte) fileIndex;
      anns++;
    }

    private UserInputException duplicateAnnotation(long id, List<CocoSource> sources) {
      List<String> files = new ArrayList<>();
      for (int a = 0; a < anns; a++) if (annIds[a] == id) files.add(sources.get(annFile[a]).name());
      return new UserInputException(
          files.get(files.size() - 1) + ": annotation id " + id + " appears twice (also in " + files.get(0) + ")");
    }

    /**
     * @param uniqueAnnotationIds whether an annotation id seen twice anywhere is an error (COCO JSON); the Spark job
     *     rejects duplicates per image itself and lets ids repeat across images
     */
    CocoDataset build(List<CocoSource> sources, boolean lenient, boolean uniqueAnnotationIds) {
      // Categories by id.
      int[] catIds = categories.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
      String[] catNames = new String[catIds.length];
      for (int i = 0; i < catIds.length; i++) catNames[i] = categories.get(catIds[i]);

      // Images by id; duplicate ids are an error naming both files.
      Integer[] order = new Integer[images];
      for (int i = 0; i < images; i++) order[i] = i;
      Arrays.sort(order, (a, c) -> Long.compare(imageIds[a], imageIds[c]));
      for (int k = 1; k < images; k++) {
        if (imageIds[order[k]] == imageIds[order[k - 1]]) {
          throw new UserInputException(
              sources.get(imageFile[order[k]]) + ": image id " + imageIds[order[k]] + " appears twice (also in "
                  + sources.get(imageFile[order[k - 1]]) + ")");
        }
      }
      long[] sortedImageIds = new long[images];
      for (int k = 0; k < images; k++) sortedImageIds[k] = imageIds[order[k]];

      // Resolve each annotation's image rank and category index; count per image.
      int[] rank = new int[anns];
      int[] catIndex = new int[anns];
      int[] perImage = new int[images + 1];
      boolean[] keep = new boolean[anns];
      int kept = 0;
      for (int a = 0; a < anns; a++) {
        int r = Arrays.binarySearch(sortedImageIds, annImage[a]);
        int c = Arrays.binarySearch(catIds, annCategory[a]);
        if (r < 0 || c < 0) {
          String what = r < 0 ? "image_id " + annImage[a] : "category_id " + annCategory[a];
          if (!lenient) {
            throw new UserInputException(
                sources.get(annFile[a]) + ": annotation id " + annIds[a] + " refers to unknown " + what
                    + " (use --lenient to drop and count such annotations)");
          }
          drop(r < 0 ? DropReason.UNKNOWN_IMAGE : DropReason.UNKNOWN_CATEGORY);
          continue;
        }
        rank[a] = r;
        catIndex[a] = c;
        keep[a] = true;
        perImage[r + 1]++;
        kept++;
      }
      for (int i = 0; i < images; i++) perImage[i + 1] += perImage[i];
      int[] imageStart = perImage.clone();

      // Counting sort by image rank, then by annotation id inside each image (images hold few boxes).
      int[] fill = Arrays.copyOf(perImage, images);
      int[] slot = new int[kept];
      for (int a = 0; a < anns; a++) if (keep[a]) slot[fill[rank[a]]++] = a;
      for (int i = 0; i < images; i++) {
        int from = imageStart[i], to = imageStart[i + 1];
        for (int k = from + 1; k < to; k++) {
          int v = slot[k];
          int m = k - 1;
          while (m >= from && annIds[slot[m]] > annIds[v]) {
            slot[m + 1] = slot[m];
            m--;
          }
          slot[m + 1] = v;
        }
      }
      // Duplicate annotation ids (anywhere) are an error.
      long[] ids = new long[kept];
      for (int k = 0; k < kept; k++) ids[k] = annIds[slot[k]];
      if (uniqueAnnotationIds) {
        long[] sortedIds = ids.clone();
        Arrays.sort(sortedIds);
        for (int k = 1; k < kept; k++) {
          if (sortedIds[k] == sortedIds[k - 1]) throw duplicateAnnotation(sortedIds[k], sources);
        }
      }

      String[] fn = new String[images], wt = new String[images], ht = new String[images];
      float[] iw = new float[images], ih = new float[images];
      for (int k = 0; k < images; k++) {
        int i = order[k];
        fn[k] = fileNames[i];
        wt[k] = widthText[i];
        ht[k] = heightText[i];
        iw[k] = imageW[i];
        ih[k] = imageH[i];
      }
      int[] cat = new int[kept];
      float[] x = new float[kept], y = new float[kept], w = new float[kept], h = new float[kept];
      boolean[] cr = new boolean[kept];
      int[] ts = new int[kept + 1];
      int total = 0;
      for (int k = 0; k < kept; k++) total += textStart[slot[k] + 1] - textStart[slot[k]];
      byte[] tx = new byte[total];
      for (int k = 0; k < kept; k++) {
        int a = slot[k];
        cat[k] = catIndex[a];
        x[k] = ax[a];
        y[k] = ay[a];
        w[k] = aw[a];
        h[k] = ah[a];
        cr[k] = annCrowd[a];
        int len = textStart[a + 1] - textStart[a];
        System.arraycopy(text, textStart[a], tx, ts[k], len);
        ts[k + 1] = ts[k] + len;
      }
      return new CocoDataset(
          catIds, catNames, sortedImageIds, fn, wt, ht, iw, ih, imageStart, ids, cat, x, y, w, h, cr, tx, ts,
          new EnumMap<>(dropped), List.copyOf(sources));
    }
  }
}

package org.sr4g.detection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.detection.image.ImageDecoder;
import org.sr4g.detection.image.PilBicubic;
import org.sr4g.detection.image.RgbImage;
import org.sr4g.detection.owlvit.OwlVitDetector;
import org.sr4g.diffusion.GoldenFixture;
import org.sr4g.diffusion.models.WeightsFile;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * OWL-ViT parity with transformers 4.31: one dynamic test per {@code owlvit_*} folder of the golden directory
 * ({@code $SR4G_GOLDEN_DIR}, default {@code ../shared/golden}), its layout read from its {@code fixture.json}.
 * Checked within the per-tensor atol of the sidecar: decoding and the bicubic resize (uint8, exact), pixel values
 * (exact), the tokenized queries (exact, including {@code visor_queries.jsonl}), every model output and intermediate
 * on the fixture's inputs, the padded query's −1e6, post-processing with and without the threshold (same count, same
 * order, same labels), VISOR's own call from the PNG to the record, and the same outputs from
 * {@code pytorch_model.bin}. Without fixtures it skips, or fails when {@code CI=true} or
 * {@code -Dsr4g.golden.strict=true}.
 */
class OwlVitGoldenParityTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @TestFactory
  Stream<DynamicTest> everyOwlVitFixture() {
    List<Path> fixtures = OwlVitFixtures.all();
    if (fixtures.isEmpty()) {
      String why = "no owlvit_* fixture in " + GoldenFixture.goldenDir();
      if (Boolean.getBoolean("sr4g.golden.strict") || "true".equals(System.getenv("CI"))) fail(why);
      Assumptions.abort(why);
    }
    return fixtures.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
      NativeAssume.torch();
      try (GoldenFixture f = GoldenFixture.folder(dir)) {
        try {
          new Check(f, OwlVitFixtures.modelFolder(dir, tmp.resolve(dir.getFileName().toString()))).run();
        } finally {
          f.report().forEach(System.out::println);
        }
        f.verify();
      }
    }));
  }

  /** The checks of one fixture. */
  private static final class Check {
    final GoldenFixture f;
    final JsonNode side;
    final OwlVitFolder folder;

    Check(GoldenFixture f, Path modelDir) {
      this.f = f;
      this.side = f.sidecar();
      this.folder = OwlVitFolder.open(modelDir);
    }

    void run() throws Exception {
      assertEquals(List.of(), folder.problems());
      preprocessing();
      tokenization();
      try (Detector d = Detector.load(folder, Device.CPU, DType.F32)) {
        model(d.model(), "model.safetensors");
        visorCall(d);
      }
      Path bin = f.dir().resolve("pytorch_model.bin");
      if (Files.isRegularFile(bin)) {
        try (WeightsFile w = WeightsFile.open(bin);
            OwlVitDetector m = OwlVitDetector.load(folder.config(), w, Device.CPU, DType.F32)) {
          model(m, "pytorch_model.bin");
        }
      }
    }

    /** photo → uint8 (exact) → bicubic (exact) → pixel values (bit-exact). */
    void preprocessing() {
      JsonNode photos = side.path("files").path("photos");
      float[] all = new float[photos.size() * 3 * folder.processor().width() * folder.processor().height()];
      int plane = all.length / photos.size();
      for (int i = 0; i < photos.size(); i++) {
        RgbImage img = ImageDecoder.decode(f.dir().resolve(photos.get(i).asText()));
        f.checkExact("preprocess/" + i + "/image_u8", unsigned(img.rgb()));
        RgbImage resized = PilBicubic.resize(img, folder.processor().width(), folder.processor().height());
        f.checkExact("preprocess/" + i + "/resized_u8", unsigned(resized.rgb()));
        folder.processor().pixelValues(img, all, i * plane);
      }
      exactFloats("input/pixel_values", all);
    }

    /** The batch's queries, VISOR's two and all 80 of visor_queries.jsonl, token for token. */
    void tokenization() throws Exception {
      JsonNode queries = side.path("batch").path("queries");
      Set<Integer> padded = intSet(side.path("batch").path("padded_query_rows"));
      List<Long> ids = new ArrayList<>(), mask = new ArrayList<>();
      int row = 0;
      for (JsonNode image : queries)
        for (JsonNode q : image) {
          QueryTokenizer.Encoded e = padded.contains(row++) ? folder.tokenizer().padded() : folder.tokenizer().encode(q.asText());
          for (long v : e.ids()) ids.add(v);
          for (long v : e.mask()) mask.add(v);
        }
      f.checkExact("input/input_ids", ids.stream().mapToLong(Long::longValue).toArray());
      f.checkExact("input/attention_mask", mask.stream().mapToLong(Long::longValue).toArray());
      List<Long> vids = new ArrayList<>(), vmask = new ArrayList<>();
      for (JsonNode q : side.path("visor").path("texts")) {
        QueryTokenizer.Encoded e = folder.tokenizer().encode(q.asText());
        for (long v : e.ids()) vids.add(v);
        for (long v : e.mask()) vmask.add(v);
      }
      f.checkExact("visor/input_ids", vids.stream().mapToLong(Long::longValue).toArray());
      f.checkExact("visor/attention_mask", vmask.stream().mapToLong(Long::longValue).toArray());
      Path jsonl = f.dir().resolve("visor_queries.jsonl");
      if (Files.isRegularFile(jsonl)) {
        int n = 0, bad = 0;
        for (String line : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) {
          if (line.isBlank()) continue;
          JsonNode q = JSON.readTree(line);
          QueryTokenizer.Encoded e = folder.tokenizer().encode(q.get("text").asText());
          if (!Arrays.equals(e.ids(), longs(q.get("input_ids"))) || !Arrays.equals(e.mask(), longs(q.get("attention_mask")))) {
            bad++;
            f.recordFailure("visor_queries.jsonl \"" + q.get("text").asText() + "\": " + Arrays.toString(e.ids()));
          }
          n++;
        }
        if (bad == 0) f.recordOk("visor_queries.jsonl " + n + "/" + n + " queries tokenized exactly");
      }
    }

    /** Every output and intermediate on the fixture's own inputs, then post-processing. */
    void model(OwlVitDetector m, String weights) {
      String tag = weights.equals("model.safetensors") ? "" : " [" + weights + "]";
      int b = side.path("batch").path("images").asInt(), q = side.path("batch").path("queries_per_image").asInt();
      Set<Integer> padded = intSet(side.path("batch").path("padded_query_rows"));
      try (ModeGuard ng = Autograd.noGrad(); TensorScope scope = TensorScope.open()) {
        OwlVitDetector.Output o = m.forward(f.io().toTensor("input/pixel_values"), f.io().toTensor("input/input_ids"),
            f.io().toTensor("input/attention_mask"));
        float[] logits = o.logits().toFloatArray();
        close("output/logits", logits, tag);
        int paddedValues = 0, notMinus = 0;
        int patches = m.config().vision().patches();
        for (int row : padded)
          for (int p = 0; p < patches; p++) {
            paddedValues++;
            if (logits[((row / q) * patches + p) * q + row % q] != -1e6f) notMinus++;
          }
        if (notMinus > 0) f.recordFailure("padded query logits: " + notMinus + " of " + paddedValues + " are not exactly -1e6" + tag);
        else f.recordOk("padded query logits: all " + paddedValues + " exactly -1e6" + tag);
        float[] boxes = o.predBoxes().toFloatArray();
        close("output/pred_boxes", boxes, tag);
        closeRows("output/text_embeds", o.textEmbeds().toFloatArray(), b * q, padded, tag);
        close("output/image_embeds", o.imageEmbeds().toFloatArray(), tag);
        close("output/class_embeds", o.classEmbeds().toFloatArray(), tag);
        OwlVitDetector.Debug d = o.debug();
        close("debug/vision_hidden_states", Tensor.cat(d.visionHidden().stream().map(t -> t.reshape(concat(1, t.shape()))).toList(), 0).toFloatArray(), tag);
        close("debug/vision_pooled", d.visionPooled().toFloatArray(), tag);
        // Padded queries are not compared on the text side (their values depend on how an all-masked row is evaluated).
        float[] th = Tensor.cat(d.textHidden().stream().map(t -> t.reshape(concat(1, t.shape()))).toList(), 0).toFloatArray();
        closeRows("debug/text_hidden_states", th, d.textHidden().size() * b * q, layerRows(padded, d.textHidden().size(), b * q), tag);
        closeRows("debug/text_last_hidden_state", d.textLast().toFloatArray(), b * q, padded, tag);
        closeRows("debug/text_pooled", d.textPooled().toFloatArray(), b * q, padded, tag);
        closeRows("debug/text_projected", d.textProjected().toFloatArray(), b * q, padded, tag);
        close("debug/box_head", d.boxHead().toFloatArray(), tag);
        close("debug/box_bias", d.boxBias().toFloatArray(), tag);
        close("debug/logit_shift", d.logitShift().toFloatArray(), tag);
        close("debug/logit_scale", d.logitScale().toFloatArray(), tag);
        postProcess(logits, boxes, b, patches, q, tag);
      }
    }

    /** post/{i}/* (threshold 0.1: same count, order, labels) and post_all/* from the model's own outputs. */
    void postProcess(float[] logits, float[] boxes, int b, int patches, int q, String tag) {
      long[] sizes = f.longs("post/target_sizes");
      double threshold = side.path("post_process").path("threshold").asDouble(0.1);
      List<Float> allScores = new ArrayList<>(), allBoxes = new ArrayList<>();
      for (int i = 0; i < b; i++) {
        PostProcess.Patches p = PostProcess.of(logits, boxes, i, patches, q, (int) sizes[2 * i + 1], (int) sizes[2 * i]);
        for (float s : p.scores()) allScores.add(s);
        for (float v : p.boxes()) allBoxes.add(v);
        int[] kept = p.kept(threshold);
        float[] ks = new float[kept.length], kb = new float[kept.length * 4];
        long[] kl = new long[kept.length];
        for (int k = 0; k < kept.length; k++) {
          ks[k] = p.scores()[kept[k]];
          kl[k] = p.labels()[kept[k]];
          System.arraycopy(p.boxes(), 4 * kept[k], kb, 4 * k, 4);
        }
        f.checkExact("post/" + i + "/labels", kl); // also fixes the count and the order
        close("post/" + i + "/scores", ks, tag);
        close("post/" + i + "/boxes", kb, tag);
      }
      close("post_all/scores", toArray(allScores), tag);
      close("post_all/boxes", toArray(allBoxes), tag);
    }

    /** VISOR's call, as its notebook makes it: the PNG and two queries through the whole pipeline, then its record. */
    void visorCall(Detector d) {
      JsonNode v = side.path("visor");
      RgbImage img = ImageDecoder.decode(f.dir().resolve(v.path("image").asText()));
      List<String> texts = new ArrayList<>();
      v.path("texts").forEach(t -> texts.add(t.asText()));
      try (ModeGuard ng = Autograd.noGrad(); TensorScope scope = TensorScope.open()) {
        float[] px = new float[3 * d.processor().width() * d.processor().height()];
        d.processor().pixelValues(img, px, 0);
        long[] ids = f.longs("visor/input_ids"), mask = f.longs("visor/attention_mask");
        OwlVitDetector.Output o = d.model().forward(Tensor.of(px, 1, 3, d.processor().height(), d.processor().width()),
            Tensor.of(ids, texts.size(), ids.length / texts.size()), Tensor.of(mask, texts.size(), ids.length / texts.size()));
        close("visor/logits", o.logits().toFloatArray(), "");
        close("visor/pred_boxes", o.predBoxes().toFloatArray(), "");
      }
      PostProcess.Patches p = d.detect(List.of(img), List.of(texts)).get(0);
      close("visor/scores", p.scores(), "");
      close("visor/boxes", p.boxes(), "");
      f.checkExact("visor/labels", Arrays.stream(p.labels()).asLongStream().toArray());
      // The record VISOR keeps: classes and box centres of the detections with score > 0.1.
      JsonNode record = v.path("record");
      int[] kept = p.kept(0.1);
      List<String> classes = new ArrayList<>();
      float[] centroids = new float[kept.length * 2], expected = new float[record.path("centroid").size() * 2];
      String[] names = {v.path("obj1").asText(), v.path("obj2").asText()};
      for (int k = 0; k < kept.length; k++) {
        classes.add(names[p.labels()[kept[k]]]);
        float[] bx = Arrays.copyOfRange(p.boxes(), 4 * kept[k], 4 * kept[k] + 4);
        centroids[2 * k] = (bx[0] + bx[2]) / 2;
        centroids[2 * k + 1] = (bx[1] + bx[3]) / 2;
      }
      for (int k = 0; k < expected.length / 2; k++) {
        expected[2 * k] = (float) record.path("centroid").get(k).get(0).asDouble();
        expected[2 * k + 1] = (float) record.path("centroid").get(k).get(1).asDouble();
      }
      List<String> want = new ArrayList<>();
      record.path("classes").forEach(c -> want.add(c.asText()));
      if (classes.equals(want)) f.recordOk("visor record: " + classes.size() + " classes as VISOR's");
      else f.recordFailure("visor record classes " + classes + ", expected " + want);
      double err = GoldenFixture.maxAbsDiff(centroids, expected), atol = f.atol("visor/boxes");
      if (err <= atol) f.recordOk(String.format("visor record centroids max|err| %.3e  atol %.1e  ok", err, atol));
      else f.recordFailure(String.format("visor record centroids max|err| %.3e  atol %.1e", err, atol));
    }

    void close(String tensor, float[] actual, String tag) {
      if (tag.isEmpty()) f.checkClose(tensor, actual);
      else compare(tensor + tag, actual, f.floats(tensor), f.atol(tensor));
    }

    /** Compares only rows not in {@code skip} ({@code rows} rows of equal length). */
    void closeRows(String tensor, float[] actual, int rows, Set<Integer> skip, String tag) {
      float[] expected = f.floats(tensor);
      if (actual.length != expected.length) {
        f.recordFailure(tensor + tag + ": length " + actual.length + ", expected " + expected.length);
        return;
      }
      int w = expected.length / rows;
      List<Float> a = new ArrayList<>(), e = new ArrayList<>();
      for (int r = 0; r < rows; r++) {
        if (skip.contains(r)) continue;
        for (int i = r * w; i < (r + 1) * w; i++) {
          a.add(actual[i]);
          e.add(expected[i]);
        }
      }
      compare(tensor + " (" + skip.size() + " padded rows left out)" + tag, toArray(a), toArray(e),
          f.atol(tensor));
    }

    void compare(String what, float[] actual, float[] expected, double atol) {
      double err = GoldenFixture.maxAbsDiff(actual, expected);
      String line = String.format("%-50s max|err| %.3e  atol %.1e", what, err, atol);
      if (err <= atol) f.recordOk(line + "  ok");
      else f.recordFailure(line + "  FAIL");
    }

    void exactFloats(String tensor, float[] actual) {
      float[] expected = f.floats(tensor);
      double err = GoldenFixture.maxAbsDiff(actual, expected);
      if (err == 0) f.recordOk(tensor + " bit-exact (" + actual.length + " values)");
      else f.recordFailure(tensor + " max|err| " + err + " (expected bit-exact)");
    }
  }

  /** Rows of a [layers, rows] stack to leave out: the padded rows of every layer. */
  private static Set<Integer> layerRows(Set<Integer> padded, int layers, int rows) {
    Set<Integer> out = new java.util.HashSet<>();
    for (int l = 0; l < layers; l++) for (int r : padded) out.add(l * rows + r);
    return out;
  }

  private static Set<Integer> intSet(JsonNode n) {
    Set<Integer> out = new java.util.HashSet<>();
    n.forEach(v -> out.add(v.asInt()));
    return out;
  }

  private static long[] longs(JsonNode n) {
    long[] out = new long[n.size()];
    for (int i = 0; i < out.length; i++) out[i] = n.get(i).asLong();
    return out;
  }

  private static long[] unsigned(byte[] b) {
    long[] out = new long[b.length];
    for (int i = 0; i < b.length; i++) out[i] = b[i] & 0xff;
    return out;
  }

  private static float[] toArray(List<Float> l) {
    float[] out = new float[l.size()];
    for (int i = 0; i < out.length; i++) out[i] = l.get(i);
    return out;
  }

  private static long[] concat(long first, long[] rest) {
    long[] out = new long[rest.length + 1];
    out[0] = first;
    System.arraycopy(rest, 0, out, 1, rest.length);
    return out;
  }
}

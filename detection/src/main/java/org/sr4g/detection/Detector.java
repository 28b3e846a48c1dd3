package org.sr4g.detection;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.sr4g.detection.image.ImageProcessor;
import org.sr4g.detection.image.RgbImage;
import org.sr4g.detection.owlvit.OwlVitConfig;
import org.sr4g.detection.owlvit.OwlVitDetector;
import org.sr4g.diffusion.models.WeightsFile;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * OWL-ViT text-queried detection as VISOR runs it, for a batch of images each with its own queries: the processor's
 * preprocessing and tokenization, one forward pass without gradients, and {@link PostProcess} per image (every patch;
 * callers apply the threshold). Images with fewer queries than the batch's most are filled with padded queries,
 * which never win a patch.
 */
public final class Detector implements AutoCloseable {
  private final OwlVitDetector model;
  private final ImageProcessor processor;
  private final QueryTokenizer tokenizer;
  private final Device device;

  public Detector(OwlVitDetector model, ImageProcessor processor, QueryTokenizer tokenizer, Device device) {
    this.model = model;
    this.processor = processor;
    this.tokenizer = tokenizer;
    this.device = device;
  }

  /** Loads the folder's model after checking the whole folder (every problem named before any weight is read). */
  public static Detector load(OwlVitFolder folder, Device device, DType dtype) {
    folder.requireValid();
    try (WeightsFile w = WeightsFile.open(folder.weights())) {
      return new Detector(OwlVitDetector.load(folder.config(), w, device, dtype), folder.processor(), folder.tokenizer(),
          device);
    }
  }

  public OwlVitConfig config() {
    return model.config();
  }

  public OwlVitDetector model() {
    return model;
  }

  public QueryTokenizer tokenizer() {
    return tokenizer;
  }

  public ImageProcessor processor() {
    return processor;
  }

  /** Every patch of every image, boxes in each image's own pixels. {@code queries.get(i)} are image i's (≥ 1). */
  public List<PostProcess.Patches> detect(List<RgbImage> images, List<List<String>> queries) {
    return run(prepare(images, queries));
  }

  /** A batch ready for the model: pixel values, token ids and masks (CPU work, may run ahead on another thread). */
  public record Batch(int images, int queries, float[] pixels, long[] ids, long[] mask, int[] widths, int[] heights) {}

  /** Preprocesses and tokenizes a batch; images with fewer queries than the most get padded queries. */
  public Batch prepare(List<RgbImage> images, List<List<String>> queries) {
    int b = images.size();
    if (b == 0 || queries.size() != b) throw new IllegalArgumentException(b + " images, " + queries.size() + " query lists");
    if (queries.stream().anyMatch(List::isEmpty)) throw new IllegalArgumentException("an image without queries");
    int q = queries.stream().mapToInt(List::size).max().orElse(0);
    int plane = 3 * processor.width() * processor.height();
    float[] pixels = new float[b * plane];
    IntStream.range(0, b).parallel().forEach(i -> processor.pixelValues(images.get(i), pixels, i * plane));
    int len = tokenizer.maxLength();
    long[] ids = new long[b * q * len], mask = new long[b * q * len];
    for (int i = 0; i < b; i++)
      for (int j = 0; j < q; j++) {
        QueryTokenizer.Encoded e = j < queries.get(i).size() ? tokenizer.encode(queries.get(i).get(j)) : tokenizer.padded();
        System.arraycopy(e.ids(), 0, ids, (i * q + j) * len, len);
        System.arraycopy(e.mask(), 0, mask, (i * q + j) * len, len);
      }
    return new Batch(b, q, pixels, ids, mask, images.stream().mapToInt(RgbImage::width).toArray(),
        images.stream().mapToInt(RgbImage::height).toArray());
  }

  /** One forward pass without gradients, then every patch of every image. */
  public List<PostProcess.Patches> run(Batch batch) {
    int b = batch.images(), q = batch.queries(), len = tokenizer.maxLength();
    float[] logits, boxes;
    try (ModeGuard ng = Autograd.noGrad(); TensorScope scope = TensorScope.open()) {
      Tensor px = Tensor.of(batch.pixels(), b, 3, processor.height(), processor.width()).to(model.dtype(), device);
      OwlVitDetector.Output o = model.forward(px, Tensor.of(batch.ids(), (long) b * q, len).to(device),
          Tensor.of(batch.mask(), (long) b * q, len).to(device), false);
      logits = o.logits().to(DType.F32, Device.CPU).toFloatArray();
      boxes = o.predBoxes().to(DType.F32, Device.CPU).toFloatArray();
    }
    int patches = model.config().vision().patches();
    List<PostProcess.Patches> out = new ArrayList<>(b);
    for (int i = 0; i < b; i++)
      out.add(PostProcess.of(logits, boxes, i, patches, q, batch.widths()[i], batch.heights()[i]));
    return out;
  }

  @Override
  public void close() {
    model.close();
  }
}

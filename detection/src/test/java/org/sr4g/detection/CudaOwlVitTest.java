package org.sr4g.detection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.detection.image.ImageDecoder;
import org.sr4g.detection.image.RgbImage;
import org.sr4g.detection.owlvit.OwlVitDetector;
import org.sr4g.diffusion.GoldenFixture;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/**
 * OWL-ViT on a CUDA device: float32 parity with the golden fixture (TF32 off), and f16/bf16 detections close to the
 * float32 ones. Skips (never fails) without a CUDA device; run by scripts/device-check.sh.
 */
class CudaOwlVitTest {
  @TempDir Path tmp;

  @Test
  void goldenParityOnCudaF32() {
    NativeAssume.cudaTorch();
    Device cuda = Device.cuda(0);
    boolean tf32 = Torch.allowTf32(false);
    Path fixture = OwlVitFixtures.first();
    OwlVitFolder folder = OwlVitFolder.open(OwlVitFixtures.modelFolder(fixture, tmp.resolve("m")));
    try (GoldenFixture f = GoldenFixture.folder(fixture);
        Detector d = Detector.load(folder, cuda, DType.F32);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      OwlVitDetector.Output o = d.model().forward(f.io().toTensor("input/pixel_values").to(cuda),
          f.io().toTensor("input/input_ids").to(cuda), f.io().toTensor("input/attention_mask").to(cuda));
      assertEquals(cuda, o.logits().device());
      f.checkClose("output/logits", o.logits().to(Device.CPU).toFloatArray());
      f.checkClose("output/pred_boxes", o.predBoxes().to(Device.CPU).toFloatArray());
      f.checkClose("output/image_embeds", o.imageEmbeds().to(Device.CPU).toFloatArray());
      f.checkClose("output/class_embeds", o.classEmbeds().to(Device.CPU).toFloatArray());
      RgbImage photo = ImageDecoder.decode(fixture.resolve("photo_0.png"));
      PostProcess.Patches p = d.detect(List.of(photo), List.of(List.of("a photo of a person", "a photo of a dog"))).get(0);
      f.checkClose("visor/scores", p.scores());
      f.checkClose("visor/boxes", p.boxes());
      f.checkExact("visor/labels", java.util.Arrays.stream(p.labels()).asLongStream().toArray());
      f.report().forEach(System.out::println);
      f.verify();
    } finally {
      Torch.allowTf32(tf32);
    }
  }

  @Test
  void halfPrecisionDetectionsStayCloseToFloat32() {
    NativeAssume.cudaTorch();
    Device cuda = Device.cuda(0);
    Path fixture = OwlVitFixtures.first();
    OwlVitFolder folder = OwlVitFolder.open(OwlVitFixtures.modelFolder(fixture, tmp.resolve("m")));
    List<RgbImage> photos = List.of(ImageDecoder.decode(fixture.resolve("photo_0.png")),
        ImageDecoder.decode(fixture.resolve("photo_1.png")));
    List<List<String>> queries = List.of(List.of("a photo of a person", "a photo of a dog"),
        List.of("a photo of a cat", "a photo of a tv"));
    List<PostProcess.Patches> ref;
    try (Detector d = Detector.load(folder, Device.CPU, DType.F32)) {
      ref = d.detect(photos, queries);
    }
    for (DType dt : List.of(DType.F16, DType.BF16)) {
      try (Detector d = Detector.load(folder, cuda, dt)) {
        List<PostProcess.Patches> got = d.detect(photos, queries);
        for (int i = 0; i < photos.size(); i++) {
          double score = GoldenFixture.maxAbsDiff(got.get(i).scores(), ref.get(i).scores());
          double box = GoldenFixture.maxAbsDiff(got.get(i).boxes(), ref.get(i).boxes());
          System.out.printf("cuda %s image %d: max|score err| %.2e  max|box err| %.2e px%n", dt, i, score, box);
          assertTrue(score <= 0.01, dt + " scores differ from float32 by " + score);
          assertTrue(box <= 1.0, dt + " boxes differ from float32 by " + box + " px");
        }
      }
    }
  }
}

package org.sr4g.diffusion.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.testing.SharedData;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.TensorScope;

/** The golden OWL-ViT checkpoint saved by PyTorch 1.13 reads equal, tensor by tensor, to its safetensors twin. */
class GoldenPyTorchCheckpointTest {
  @Test
  void owlvitBinEqualsItsSafetensors() {
    NativeAssume.torch();
    Path dir = SharedData.require("golden/owlvit_a/pytorch_model.bin").getParent();
    try (PyTorchCheckpoint bin = PyTorchCheckpoint.open(dir.resolve("pytorch_model.bin"));
        SafetensorsFile st = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
      assertEquals(st.keys(), bin.keys());
      assertEquals(92, bin.keys().size());
      for (String k : st.keys()) {
        assertArrayEquals(st.info(k).shape(), bin.shape(k), k);
        assertEquals("float16", bin.dtype(k), k);
        try (TensorScope s = TensorScope.open()) {
          assertArrayEquals(st.readFloats(k), bin.toTensor(k).toFloatArray(), k);
        }
      }
    }
  }
}

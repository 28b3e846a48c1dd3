package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Torch.allowTf32 flips libtorch's process-wide flags and reports the previous state (works without CUDA too). */
class Tf32SwitchTest {
  @Test
  void switchesAndReportsThePreviousState() {
    NativeAssume.torch();
    boolean before = Torch.allowTf32(false);
    try {
      assertFalse(Torch.allowTf32(true), "was off");
      assertTrue(Torch.allowTf32(false), "was on");
      assertFalse(Torch.allowTf32(false));
    } finally {
      Torch.allowTf32(before);
    }
  }
}

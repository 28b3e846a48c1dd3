package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.sr4g.torch.NativeAssume;

/** {@code sr4g bench sample} on the tiny random model: batched images equal one-at-a-time ones, times are printed. */
class BenchSampleCommandTest {
  @Test
  void batchedAgainstOneAtATime() {
    NativeAssume.torch();
    CliRun r = CliRun.of("bench", "sample", "--batch", "3", "--images", "4", "--steps", "2", "--warmup", "0");
    assertEquals(0, r.code(), r.out() + r.err());
    String out = r.out();
    assertTrue(out.contains("settings: tiny random model, dtype f32, 4 images per round, 1 round(s), batch 3, res 16 (the model's"
        + " default), 2 sampler steps per image, 0 warm-up image(s)"), out);
    assertTrue(out.contains("identical_to_batch_1: true (4 images x 1 rounds, RGB compared)"), out);
    assertTrue(Pattern.compile("(?m)^per_image_ms_batch_3: \\[[0-9.]+\\] \\(median [0-9.]+\\)$").matcher(out).find(), out);
    assertTrue(Pattern.compile("(?m)^speedup_per_image: [0-9.]+$").matcher(out).find(), out);
    r = CliRun.of("bench", "sample", "--shape", "sd15");
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("bench sample builds only the tiny random model"), r.err());
  }
}

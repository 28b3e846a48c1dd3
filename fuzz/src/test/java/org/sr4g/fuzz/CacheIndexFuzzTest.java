package org.sr4g.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.sr4g.diffusion.training.LatentCache;

/** A latent cache's {@code index.json} as {@code sr4g train --cache} opens it (no shard files: any use of one fails). */
class CacheIndexFuzzTest {
  @FuzzTest
  void fuzz(byte[] data) {
    Verdict.userErrorsOnly(() -> {
      Scratch.file("cache/index.json", data);
      try (LatentCache c = LatentCache.open(Scratch.dir("cache"))) {
        c.samples().size();
        var s = c.new Stream(1);
        for (int p = 0; p < Math.min(4, c.samples().size()); p++) s.at(p);
      }
    });
  }
}

package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NCCL path on one GPU, with one rank (NCCL refuses two ranks on one device): the group, its collectives on CUDA
 * tensors, and DDP's Reducer on a CUDA TinyNet. Skips without a CUDA device or without NCCL in the build (CI has
 * neither); scripts/device-check.sh runs it on the lent GPU, where the build has NCCL from PyTorch's wheels.
 */
class NcclTest {
  @Test
  void oneRankOnTheGpu(@TempDir Path tmp) {
    NativeAssume.cudaTorch();
    var why = ProcessGroup.unavailableReason(ProcessGroup.Backend.NCCL);
    Assumptions.assumeTrue(why.isEmpty(), why.orElse(""));
    String version = ProcessGroup.ncclVersion();
    System.out.println("NCCL " + version);
    assertFalse(version.isBlank());
    long live = Torch.liveTensors();
    Device gpu = Device.cuda(0);
    try (ProcessGroup g = ProcessGroup.join("file://" + tmp.resolve("store"), 0, 1, ProcessGroup.Backend.NCCL, gpu,
        Duration.ofSeconds(120)); TinyNet net = new TinyNet(gpu, 3);
        GradientReducer red = new GradientReducer(g, net.params().list())) {
      double[] d = {2.5, -1};
      g.allReduceSum(d);
      assertArrayEquals(new double[] {2.5, -1}, d);
      g.broadcast(net.params().list(), 0);
      g.barrier();
      List<float[]> local = new ArrayList<>(), reduced = new ArrayList<>();
      for (int pass = 0; pass < 2; pass++) {
        try (TensorScope s = TensorScope.open(); Generator gen = new Generator(Device.CPU, 11)) {
          net.params().zeroGrad();
          if (pass == 1) red.prepare(); // pass 0 without: DDP's no_sync, the local gradients
          Tensor x = Tensor.randn(gen, DType.F32, 2, TinyNet.IN_CHANNELS, TinyNet.SIZE, TinyNet.SIZE).to(gpu);
          net.forward(x).square().mean().backward();
          if (pass == 1) red.check();
          for (Tensor p : net.params().list()) (pass == 0 ? local : reduced).add(p.grad().to(Device.CPU).toFloatArray());
        }
      }
      for (int i = 0; i < local.size(); i++) assertArrayEquals(local.get(i), reduced.get(i), 1e-6f, "one rank: the mean is its own");
    }
    assertEquals(live, Torch.liveTensors());
    assertEquals(0, ProcessGroup.liveHandles());
  }
}

package org.sr4g.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.diffusion.safetensors.SafetensorsDiff;
import org.sr4g.diffusion.training.distributed.DistributedOptions;
import org.sr4g.diffusion.training.distributed.World;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.OnRanks;
import org.sr4g.torch.ProcessGroup;
import org.sr4g.torch.Torch;

/**
 * {@link Trainer} as two ranks on two threads of this JVM (Gloo over a FileStore), with gradient accumulation (no sync
 * on the first micro-batch), gradient checkpointing and EMA: the same run as one process with the global batch (losses
 * within 1e-6 relative, raw and EMA weights within 1e-6 of each tensor's largest value), every native handle (tensors,
 * process groups, Reducers) freed afterwards — and without the gradient all-reduce the ranks part. The equality across
 * real processes started by the launcher: DistributedTrainCommandTest (cli).
 */
class DistributedTrainerTest {
  private static TrainOptions options(Path tmp, String out, int batch) throws Exception {
    TrainOptions o = TrainerTest.options(tmp, out);
    o.batchSize = batch;
    o.maxSteps = 4;
    o.lr = 1e-5;
    o.gradAccum = 2;
    o.gradientCheckpointing = true;
    o.ema = true;
    o.emaDecay = 0.9;
    o.workers = 1;
    return o;
  }

  private static List<Trainer.Result> twoRanks(Path tmp, String out, boolean sync) throws Exception {
    return onTwoRanks(tmp, out, sync, () -> options(tmp, out, 2));
  }

  /** The run {@code options} gives, on two ranks on threads, rendezvous in a FileStore named after {@code out}. */
  static List<Trainer.Result> onTwoRanks(Path tmp, String out, boolean sync,
      java.util.concurrent.Callable<TrainOptions> options) throws Exception {
    return OnRanks.run(2, rank -> {
      try {
        TrainOptions o = options.call();
        o.distributed = new DistributedOptions(new World(rank, rank, 2, 2, null, 0), "file://" + tmp.resolve(out + ".store"),
            Duration.ofSeconds(120), sync);
        return Trainer.train(o, TrainerTest.QUIET);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /** The largest difference of any tensor of two UNets, relative to that tensor's largest magnitude. */
  static double difference(Path a, Path b) {
    String f = "unet/diffusion_pytorch_model.safetensors";
    return SafetensorsDiff.maxRelative(a.resolve(f), b.resolve(f));
  }

  @Test
  void twoRanksOnThreadsTrainAsOneProcessAndFreeEveryHandle(@TempDir Path tmp) throws Exception {
    NativeAssume.gloo();
    Trainer.Result one = Trainer.train(options(tmp, "one", 4), TrainerTest.QUIET);
    long tensors = Torch.liveTensors();
    List<Trainer.Result> two = twoRanks(tmp, "two", true);
    assertEquals(tensors, Torch.liveTensors(), "tensor handles of both ranks freed");
    assertEquals(0, ProcessGroup.liveHandles(), "process groups and Reducers freed");
    List<Double> l1 = TrainerTest.losses(one);
    for (Trainer.Result r : two) {
      List<Double> l2 = TrainerTest.losses(r);
      for (int i = 0; i < l1.size(); i++)
        assertEquals(l1.get(i), l2.get(i), 1e-6 * l1.get(i), "step " + (i + 1) + ": " + l1 + " vs " + l2);
    }
    assertEquals(TrainerTest.losses(two.get(0)), TrainerTest.losses(two.get(1)), "every rank reports the mean");
    double ema = difference(one.finalModel(), tmp.resolve("two/model"));
    double raw = difference(tmp.resolve("one/checkpoints/checkpoint-4"), tmp.resolve("two/checkpoints/checkpoint-4"));
    assertTrue(ema <= 1e-6 && raw <= 1e-6, "EMA weights differ by " + ema + ", raw weights by " + raw);

    List<Trainer.Result> unsynced = twoRanks(tmp, "unsynced", false);
    List<Double> lu = TrainerTest.losses(unsynced.get(0));
    assertEquals(l1.get(0), lu.get(0), 1e-6 * l1.get(0), "step 1 starts from the same weights");
    assertTrue(Math.abs(lu.get(3) - l1.get(3)) > 1e-4 * l1.get(3), "without the all-reduce: " + l1 + " vs " + lu);
    double apart = difference(tmp.resolve("one/checkpoints/checkpoint-4"), tmp.resolve("unsynced/checkpoints/checkpoint-4"));
    assertTrue(apart > 1e-4, "without the all-reduce the weights part: " + apart + " (synchronised: " + raw + ")");
    System.out.printf("2 ranks on threads: weights %.2e (EMA %.2e); without the all-reduce %.2e%n", raw, ema, apart);
  }
}

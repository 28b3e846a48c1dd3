package org.sr4g.diffusion.training.distributed;

import java.time.Duration;

/**
 * How a training process joins a data-parallel run: its {@link World}, the rendezvous ({@code tcp://HOST:PORT}, rank
 * 0 hosting a TCPStore, or {@code file://PATH}, a FileStore; null: {@link World#tcpInit()}), the bound on every
 * collective ({@code --dist-timeout}), and — a test hook — whether gradients are averaged at all (off: each rank keeps
 * its own gradients, which must break the equality with one process).
 */
public record DistributedOptions(World world, String init, Duration timeout, boolean syncGradients) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(30);

  public DistributedOptions {
    if (world == null) throw new IllegalArgumentException("world");
    if (timeout == null || timeout.isNegative() || timeout.isZero())
      throw new IllegalArgumentException("the distributed timeout must be positive");
  }

  public static DistributedOptions single() {
    return new DistributedOptions(World.SINGLE, null, DEFAULT_TIMEOUT, true);
  }

  /** The rendezvous address. */
  public String rendezvous() {
    return init != null ? init : world.tcpInit();
  }
}

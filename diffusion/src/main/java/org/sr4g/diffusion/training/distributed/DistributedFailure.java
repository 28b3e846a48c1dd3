package org.sr4g.diffusion.training.distributed;

/**
 * A data-parallel run cannot go on because another rank failed or went missing: the message names this rank, the
 * step, and what the rendezvous store knows about the others (which rank is behind, or that rank 0 is gone). Not a
 * user mistake and not a bug in sr4g: the CLI prints it as one line and exits 1.
 */
public final class DistributedFailure extends RuntimeException {
  public DistributedFailure(String message, Throwable cause) {
    super(message, cause);
  }
}

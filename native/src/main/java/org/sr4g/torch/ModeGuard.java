package org.sr4g.torch;

/** Restores a thread-local engine mode (grad mode, autocast) when closed; close() throws nothing checked. */
public interface ModeGuard extends AutoCloseable {
  @Override
  void close();
}

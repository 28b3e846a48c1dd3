package org.sr4g.torch;

/** A libtorch error (wrong shape, wrong dtype, out of memory ...) carrying libtorch's own message. */
public final class TorchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TorchException(String message) {
    super(message);
  }
}

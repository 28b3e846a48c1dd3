package org.sr4g.cuda;

/** A CUDA driver API call failed; carries the CUresult code and cuGetErrorName/String. */
public final class CudaException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int code;

  CudaException(String call, int code, String name) {
    super(call + " failed: " + name + " (CUresult " + code + ")");
    this.code = code;
  }

  public int code() {
    return code;
  }
}

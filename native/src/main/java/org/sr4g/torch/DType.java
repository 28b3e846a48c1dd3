package org.sr4g.torch;

/** Element types the Java API speaks; codes match sr4g_torch.h. */
public enum DType {
  F32(0, 4),
  F16(1, 2),
  BF16(2, 2),
  I64(3, 8),
  BOOL(4, 1);

  final int code;
  private final int bytes;

  DType(int code, int bytes) {
    this.code = code;
    this.bytes = bytes;
  }

  public int byteSize() {
    return bytes;
  }

  static DType of(int code) {
    for (DType d : values()) if (d.code == code) return d;
    throw new TorchException("tensor has a dtype the Java API does not name (native code " + code + ")");
  }
}

package org.sr4g.diffusion.safetensors;

import java.util.Optional;

/** The safetensors element types this package understands, with their size in bytes. */
enum SafetensorsDType {
  F32(4, true),
  F16(2, true),
  BF16(2, true),
  I64(8, true),
  I32(4, false),
  U8(1, false),
  BOOL(1, false);

  final int byteSize;
  /** Whether {@link SafetensorsWriter} can write it (the others are read-only). */
  final boolean writable;

  SafetensorsDType(int byteSize, boolean writable) {
    this.byteSize = byteSize;
    this.writable = writable;
  }

  boolean isFloat() {
    return this == F32 || this == F16 || this == BF16;
  }

  static Optional<SafetensorsDType> parse(String name) {
    for (SafetensorsDType d : values()) if (d.name().equals(name)) return Optional.of(d);
    return Optional.empty();
  }
}

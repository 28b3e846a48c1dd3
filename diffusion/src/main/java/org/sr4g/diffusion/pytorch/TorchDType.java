package org.sr4g.diffusion.pytorch;

import java.util.Map;

/** The element types of PyTorch storages sr4g reads, with their storage class and dtype names. */
enum TorchDType {
  FLOAT32("FloatStorage", "float32", 4, true),
  FLOAT16("HalfStorage", "float16", 2, true),
  BFLOAT16("BFloat16Storage", "bfloat16", 2, true),
  FLOAT64("DoubleStorage", "float64", 8, true),
  INT64("LongStorage", "int64", 8, false),
  INT32("IntStorage", "int32", 4, false),
  INT16("ShortStorage", "int16", 2, false),
  INT8("CharStorage", "int8", 1, false),
  UINT8("ByteStorage", "uint8", 1, false),
  BOOL("BoolStorage", "bool", 1, false);

  final String storageClass;
  final String dtypeName;
  final int bytes;
  final boolean floating;

  TorchDType(String storageClass, String dtypeName, int bytes, boolean floating) {
    this.storageClass = storageClass;
    this.dtypeName = dtypeName;
    this.bytes = bytes;
    this.floating = floating;
  }

  private static final Map<String, TorchDType> BY_STORAGE = new java.util.HashMap<>();
  private static final Map<String, TorchDType> BY_DTYPE = new java.util.HashMap<>();

  static {
    for (TorchDType t : values()) {
      BY_STORAGE.put(t.storageClass, t);
      BY_DTYPE.put(t.dtypeName, t);
    }
    BY_DTYPE.put("half", FLOAT16);
    BY_DTYPE.put("float", FLOAT32);
    BY_DTYPE.put("double", FLOAT64);
    BY_DTYPE.put("long", INT64);
    BY_DTYPE.put("int", INT32);
    BY_DTYPE.put("short", INT16);
  }

  /** The type of a storage class name such as {@code HalfStorage} (module torch or torch.cuda), or null. */
  static TorchDType ofStorageClass(String name) {
    return BY_STORAGE.get(name);
  }

  /** The type of a dtype global such as {@code torch.float16}, or null. */
  static TorchDType ofDtypeName(String name) {
    return BY_DTYPE.get(name);
  }

  @Override
  public String toString() {
    return dtypeName;
  }
}

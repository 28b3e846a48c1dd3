package org.sr4g.torch;

/** A seeded random generator for one device (a private clone of libtorch's default): same seed, same samples. */
public final class Generator implements AutoCloseable {
  private long handle;
  private final Device device;

  public Generator(Device device, long seed) {
    Native.require();
    this.device = device;
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.GEN_NEW.invokeExact(device.code(), seed, s.outAddr(0)));
    handle = s.out(0);
  }

  public Device device() {
    return device;
  }

  long handle() {
    if (handle == 0) throw new IllegalStateException("generator used after close()");
    return handle;
  }

  @Override
  public void close() {
    if (handle == 0) return;
    long h = handle;
    handle = 0;
    Native.call(c -> (long) Native.GEN_FREE.invokeExact(h));
  }
}

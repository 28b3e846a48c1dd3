package org.sr4g.coco;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.LongConsumer;

/** Reports bytes read, at most every 4 MiB, for progress bars. */
final class CountingInputStream extends FilterInputStream {
  private static final long STEP = 4L << 20;
  private final LongConsumer listener;
  private long count;
  private long reported;

  CountingInputStream(InputStream in, LongConsumer listener) {
    super(in);
    this.listener = listener;
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    if (b >= 0) advance(1);
    return b;
  }

  @Override
  public int read(byte[] buf, int off, int len) throws IOException {
    int n = super.read(buf, off, len);
    if (n > 0) advance(n);
    return n;
  }

  private void advance(long n) {
    count += n;
    if (count - reported >= STEP) {
      reported = count;
      listener.accept(count);
    }
  }
}

package org.sr4g;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The tool's version, as Maven stamped it into the core jar. */
public final class Sr4gVersion {
  private static final String VERSION = load();

  private Sr4gVersion() {}

  public static String get() {
    return VERSION;
  }

  private static String load() {
    try (InputStream in = Sr4gVersion.class.getResourceAsStream("sr4g-version.properties")) {
      if (in == null) return "unknown";
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

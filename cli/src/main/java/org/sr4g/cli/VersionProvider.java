package org.sr4g.cli;

import org.sr4g.Sr4gVersion;
import picocli.CommandLine;

final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() {
    return new String[] {
      "sr4g " + Sr4gVersion.get(),
      "JVM " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"
    };
  }
}

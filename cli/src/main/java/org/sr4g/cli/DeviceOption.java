package org.sr4g.cli;

import org.sr4g.torch.Device;
import picocli.CommandLine.Option;

/** {@code --device} of every command that runs a model (a picocli mixin). */
final class DeviceOption {
  @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV",
      description = "cpu, cuda or cuda:N (default: ${DEFAULT-VALUE})") String text;

  /** The device, checked before any work ({@link Device#forUser}: a bad name or a missing GPU is a user error). */
  Device device() {
    return Device.forUser(text);
  }

  @Override
  public String toString() {
    return text;
  }
}

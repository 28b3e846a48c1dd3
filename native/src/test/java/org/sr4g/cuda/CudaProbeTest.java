package org.sr4g.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CudaProbeTest {
  @Test
  void probeNeverThrowsAndExplainsAbsence() {
    CudaDriver.Probe p = CudaDriver.probe();
    assertNotNull(p);
    assertEquals(p, CudaDriver.probe(), "probed once per JVM");
    if (p.available()) {
      assertFalse(p.devices().isEmpty());
      assertTrue(p.driverVersion() > 0);
      System.out.println("CUDA driver " + p.driverVersionString() + ": " + p.devices());
    } else {
      System.out.println("CUDA probe: " + p.reason());
      assertFalse(p.reason().isBlank());
      assertTrue(p.devices().isEmpty());
      IllegalStateException e = assertThrows(IllegalStateException.class, CudaDriver::get);
      assertTrue(e.getMessage().contains(p.reason()));
      // the GPU paths refuse with the same clean reason instead of crashing
      IllegalStateException k = assertThrows(IllegalStateException.class, CudaRelationKernel::open);
      assertTrue(k.getMessage().contains("unavailable"), k.getMessage());
    }
  }

  @Test
  void machineWithoutDriverSaysNoDriver() {
    // On a machine without libcuda.so.1 (CI) the reason must say so in plain words.
    boolean hasLib = new java.io.File("/usr/lib/x86_64-linux-gnu/libcuda.so.1").exists()
        || new java.io.File("/usr/lib64/libcuda.so.1").exists() || System.getenv("LD_LIBRARY_PATH") != null;
    org.junit.jupiter.api.Assumptions.assumeFalse(hasLib, "a libcuda.so.1 may be loadable here");
    assertTrue(CudaDriver.probe().reason().startsWith("no driver"), CudaDriver.probe().reason());
  }
}

package org.sr4g.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.sr4g.cuda.CudaDriver;
import org.sr4g.torch.Allocator;
import org.sr4g.torch.Blas;
import org.sr4g.torch.Device;
import org.sr4g.torch.NativeFiles;
import org.sr4g.torch.ProcessGroup;
import org.sr4g.torch.SelfTest;
import org.sr4g.torch.Torch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sr4g doctor}: what this machine offers sr4g (Java, Vector API, libtorch, CUDA driver, our kernels) and a
 * self-test of the engine on every device. Anything missing is reported with the command that installs it.
 * Exit code 0 when every available device passes the self-test, 1 otherwise.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
    description = "Check Java, the Vector API, libtorch, CUDA and sr4g's kernels; self-test the engine on each device.")
final class DoctorCommand implements Callable<Integer> {
  @Option(names = "--json", description = "Print one JSON object instead of text.")
  boolean json;

  @Option(names = "--steps", defaultValue = "5", description = "AdamW steps in the self-test (default ${DEFAULT-VALUE}).")
  int steps;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("java", Map.of("version", Runtime.version().toString(), "vendor", System.getProperty("java.vendor"),
        "home", System.getProperty("java.home")));
    r.put("vectorApi", vectorApi());
    Allocator alloc = Allocator.active();
    Map<String, Object> am = new LinkedHashMap<>();
    am.put("name", alloc.name());
    am.put("library", alloc.library());
    if (!alloc.launcher().isEmpty()) am.put("launcher", alloc.launcher());
    if (alloc.isGlibc()) am.put("warning", alloc.describe());
    am.put("text", alloc.describe());
    r.put("allocator", am);

    Properties built = NativeFiles.buildProperties();
    Map<String, Object> torch = new LinkedHashMap<>();
    torch.put("available", Torch.isAvailable());
    if (Torch.isAvailable()) {
      torch.put("version", Torch.version());
      torch.put("libtorchDir", built.getProperty("libtorch.lib", "?"));
      torch.put("foundVia", built.getProperty("libtorch.found", "?"));
      torch.put("builtWithCuda", Torch.builtWithCuda());
      torch.put("cudaDevices", Torch.cudaDeviceCount());
      torch.put("cpuThreads", Torch.threads()[0]);
      torch.put("library", Torch.libraryPath().map(Object::toString).orElse("?"));
      Blas blas = Torch.blas();
      Map<String, Object> bm = new LinkedHashMap<>();
      bm.put("kind", blas.kind());
      bm.put("library", blas.library());
      if (blas.threads() >= 0) bm.put("threads", blas.threads());
      if (blas.isReference()) bm.put("warning", blas.describe());
      bm.put("text", blas.describe());
      torch.put("blas", bm);
    } else {
      torch.put("reason", Torch.unavailableReason().orElse("?"));
      torch.put("install", "apt-get install -y --no-install-recommends libtorch-dev, then rebuild (./run-tests or ./sr4g)");
    }
    r.put("libtorch", torch);
    r.put("distributed", distributed());

    CudaDriver.Probe p = CudaDriver.probe();
    Map<String, Object> cuda = new LinkedHashMap<>();
    cuda.put("available", p.available());
    if (p.driverVersion() > 0) cuda.put("driverVersion", p.driverVersionString());
    if (!p.available()) cuda.put("reason", p.reason());
    List<Map<String, Object>> devs = new ArrayList<>();
    for (CudaDriver.DeviceInfo d : p.devices()) {
      devs.add(Map.of("index", d.index(), "name", d.name(), "computeCapability", d.computeCapability(),
          "memoryGiB", Math.round(d.totalMemory() / (1024.0 * 1024 * 1024) * 10) / 10.0));
    }
    cuda.put("devices", devs);
    r.put("cuda", cuda);

    Map<String, Object> fatbin = new LinkedHashMap<>();
    boolean hasFatbin = NativeFiles.locate(NativeFiles.FATBIN).isPresent();
    fatbin.put("present", hasFatbin);
    if (hasFatbin) {
      fatbin.put("architectures", built.getProperty("fatbin.archs", "?"));
      fatbin.put("nvcc", built.getProperty("fatbin.nvcc", "?"));
    } else {
      fatbin.put("install", "install the CUDA toolkit (nvcc), e.g. apt-get install -y nvidia-cuda-toolkit, then rebuild");
    }
    r.put("kernels", fatbin);

    List<Map<String, Object>> selfTests = new ArrayList<>();
    boolean allOk = true;
    if (Torch.isAvailable()) {
      List<Device> devices = new ArrayList<>(List.of(Device.CPU));
      for (int i = 0; i < Torch.cudaDeviceCount(); i++) devices.add(Device.cuda(i));
      for (Device d : devices) {
        SelfTest.Result t = SelfTest.run(d, steps);
        allOk &= t.ok();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", d.toString());
        m.put("ok", t.ok());
        m.put("firstLoss", finiteOrNull(t.firstLoss())); // NaN is not JSON
        m.put("lastLoss", finiteOrNull(t.lastLoss()));
        m.put("millis", t.millis());
        m.put("detail", t.detail());
        if (d.isCuda() && Torch.builtWithCuda()) {
          long[] mem = Torch.cudaMemory(d.code());
          m.put("cudaPeakBytes", mem[1]);
        }
        selfTests.add(m);
      }
    }
    r.put("selfTest", selfTests);

    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(r));
    } else {
      printText(out, r);
    }
    out.flush();
    return allOk ? 0 : 1;
  }

  /** The c10d backends of this build (sr4g train --nproc-per-node), with NCCL's version where it is compiled in. */
  private static Map<String, Object> distributed() {
    Map<String, Object> m = new LinkedHashMap<>();
    if (!Torch.isAvailable()) return m;
    for (ProcessGroup.Backend b : ProcessGroup.Backend.values()) {
      Optional<String> why = ProcessGroup.unavailableReason(b);
      m.put(b.name().toLowerCase(Locale.ROOT), why.isEmpty());
      why.ifPresent(w -> m.put(b.name().toLowerCase(Locale.ROOT) + "Reason", w));
    }
    if (Boolean.TRUE.equals(m.get("nccl"))) {
      try {
        m.put("ncclVersion", ProcessGroup.ncclVersion());
      } catch (RuntimeException e) {
        m.put("ncclVersion", "? (" + e.getMessage() + ")");
      }
    }
    return m;
  }

  private static Double finiteOrNull(double v) {
    return Double.isFinite(v) ? v : null;
  }

  private static Map<String, Object> vectorApi() {
    Map<String, Object> m = new LinkedHashMap<>();
    try {
      var s = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
      m.put("available", true);
      m.put("preferredSpecies", s.toString());
      m.put("relationKernel", org.sr4g.relations.RelationKernel.best().name());
      m.put("bits", s.vectorBitSize());
    } catch (LinkageError e) {
      m.put("relationKernel", org.sr4g.relations.RelationKernel.best().name());
      m.put("available", false);
      m.put("reason", "jdk.incubator.vector not enabled: start java with --add-modules jdk.incubator.vector (./sr4g does)");
    }
    return m;
  }

  private static String fmt(Object loss) {
    return loss instanceof Double d ? String.format("%.4f", d) : "n/a";
  }

  @SuppressWarnings("unchecked")
  private static void printText(PrintWriter out, Map<String, Object> r) {
    Map<String, Object> j = (Map<String, Object>) r.get("java");
    out.printf("java        %s (%s)%n", j.get("version"), j.get("vendor"));
    Map<String, Object> v = (Map<String, Object>) r.get("vectorApi");
    out.printf("vector api  %s%n", Boolean.TRUE.equals(v.get("available"))
        ? v.get("preferredSpecies") + " (" + v.get("bits") + " bits); relation kernel " + v.get("relationKernel")
        : "MISSING: " + v.get("reason") + "; relation kernel " + v.get("relationKernel"));
    out.printf("allocator   %s%n", ((Map<String, Object>) r.get("allocator")).get("text"));
    Map<String, Object> t = (Map<String, Object>) r.get("libtorch");
    out.printf("libtorch    %s%n", Boolean.TRUE.equals(t.get("available"))
        ? t.get("version") + " from " + t.get("libtorchDir") + " (" + t.get("foundVia") + "), CUDA in libtorch: "
            + t.get("builtWithCuda") + ", devices: " + t.get("cudaDevices") + ", CPU threads: " + t.get("cpuThreads")
            + "\n            C layer " + t.get("library")
            + "\nblas        " + ((Map<String, Object>) t.get("blas")).get("text")
        : "MISSING: " + t.get("reason") + "\n            install: " + t.get("install"));
    Map<String, Object> dist = (Map<String, Object>) r.get("distributed");
    if (!dist.isEmpty())
      out.printf("distributed gloo %s, nccl %s%n", Boolean.TRUE.equals(dist.get("gloo")) ? "yes" : "no: " + dist.get("glooReason"),
          Boolean.TRUE.equals(dist.get("nccl")) ? "yes (NCCL " + dist.get("ncclVersion") + ")" : "no: " + dist.get("ncclReason"));
    Map<String, Object> c = (Map<String, Object>) r.get("cuda");
    if (Boolean.TRUE.equals(c.get("available"))) {
      out.printf("cuda        driver %s%n", c.get("driverVersion"));
      for (Object d : (List<Object>) c.get("devices")) {
        Map<String, Object> dm = (Map<String, Object>) d;
        out.printf("            cuda:%s %s (sm %s, %s GiB)%n", dm.get("index"), dm.get("name"),
            dm.get("computeCapability"), dm.get("memoryGiB"));
      }
    } else {
      out.printf("cuda        none: %s%n", c.get("reason"));
    }
    Map<String, Object> k = (Map<String, Object>) r.get("kernels");
    out.printf("kernels     %s%n", Boolean.TRUE.equals(k.get("present"))
        ? "fatbin " + k.get("architectures") + " (nvcc " + k.get("nvcc") + ")" : "MISSING: " + k.get("install"));
    List<Object> st = (List<Object>) r.get("selfTest");
    if (st.isEmpty()) out.println("self-test   skipped (no libtorch)");
    for (Object o : st) {
      Map<String, Object> m = (Map<String, Object>) o;
      out.printf("self-test   %-7s %s  loss %s -> %s, %s ms  (%s)%n", m.get("device"),
          Boolean.TRUE.equals(m.get("ok")) ? "OK  " : "FAIL", fmt(m.get("firstLoss")), fmt(m.get("lastLoss")), m.get("millis"),
          m.get("detail"));
    }
  }
}

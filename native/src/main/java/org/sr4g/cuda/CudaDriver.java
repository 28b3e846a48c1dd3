package org.sr4g.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * Hand-written FFM bindings to the CUDA driver API ({@code libcuda.so.1}), enough to load our fatbin and launch its
 * kernels on memory we or libtorch allocated. Uses the versioned symbols ({@code cuMemAlloc_v2} ...) that cuda.h maps
 * the plain names to, and the device's primary context, which is the one the CUDA runtime (and so libtorch) uses: our
 * kernels and libtorch's see the same memory and the same legacy default stream.
 *
 * <p>Pointers and handles (CUdeviceptr, CUcontext, CUmodule, CUstream ...) are plain {@code long}s here.
 */
public final class CudaDriver {
  /** What {@link #probe()} found. {@code reason} is non-null exactly when the driver cannot be used. */
  public record Probe(String reason, int driverVersion, List<DeviceInfo> devices) {
    public boolean available() {
      return reason == null;
    }

    /** "13.0" from 13000. */
    public String driverVersionString() {
      return driverVersion / 1000 + "." + (driverVersion % 1000) / 10;
    }
  }

  public record DeviceInfo(int index, String name, int major, int minor, long totalMemory) {
    public String computeCapability() {
      return major + "." + minor;
    }
  }

  private static final Linker LINKER = Linker.nativeLinker();
  private static CudaDriver instance;
  private static Probe probe;

  private final SymbolLookup lib;
  private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName,
      cuDeviceTotalMem, cuDeviceGetAttribute, cuDevicePrimaryCtxRetain, cuCtxSetCurrent, cuCtxSynchronize,
      cuModuleLoadData, cuModuleGetFunction, cuModuleUnload, cuLaunchKernel, cuMemAlloc, cuMemFree, cuMemcpyHtoD,
      cuMemcpyDtoH, cuStreamCreate, cuStreamSynchronize, cuStreamDestroy, cuEventCreate, cuEventRecord,
      cuEventSynchronize, cuEventElapsedTime, cuEventDestroy, cuGetErrorName;

  private CudaDriver(SymbolLookup lib) {
    this.lib = lib;
    cuInit = fn("cuInit", JAVA_INT);
    cuDriverGetVersion = fn("cuDriverGetVersion", JAVA_LONG);
    cuDeviceGetCount = fn("cuDeviceGetCount", JAVA_LONG);
    cuDeviceGet = fn("cuDeviceGet", JAVA_LONG, JAVA_INT);
    cuDeviceGetName = fn("cuDeviceGetName", JAVA_LONG, JAVA_INT, JAVA_INT);
    cuDeviceTotalMem = fn("cuDeviceTotalMem_v2", JAVA_LONG, JAVA_INT);
    cuDeviceGetAttribute = fn("cuDeviceGetAttribute", JAVA_LONG, JAVA_INT, JAVA_INT);
    cuDevicePrimaryCtxRetain = fn("cuDevicePrimaryCtxRetain", JAVA_LONG, JAVA_INT);
    cuCtxSetCurrent = fn("cuCtxSetCurrent", JAVA_LONG);
    cuCtxSynchronize = fn("cuCtxSynchronize");
    cuModuleLoadData = fn("cuModuleLoadData", JAVA_LONG, JAVA_LONG);
    cuModuleGetFunction = fn("cuModuleGetFunction", JAVA_LONG, JAVA_LONG, JAVA_LONG);
    cuModuleUnload = fn("cuModuleUnload", JAVA_LONG);
    cuLaunchKernel = fn("cuLaunchKernel", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
        JAVA_LONG, JAVA_LONG, JAVA_LONG);
    cuMemAlloc = fn("cuMemAlloc_v2", JAVA_LONG, JAVA_LONG);
    cuMemFree = fn("cuMemFree_v2", JAVA_LONG);
    cuMemcpyHtoD = fn("cuMemcpyHtoD_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG);
    cuMemcpyDtoH = fn("cuMemcpyDtoH_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG);
    cuStreamCreate = fn("cuStreamCreate", JAVA_LONG, JAVA_INT);
    cuStreamSynchronize = fn("cuStreamSynchronize", JAVA_LONG);
    cuStreamDestroy = fn("cuStreamDestroy_v2", JAVA_LONG);
    cuEventCreate = fn("cuEventCreate", JAVA_LONG, JAVA_INT);
    cuEventRecord = fn("cuEventRecord", JAVA_LONG, JAVA_LONG);
    cuEventSynchronize = fn("cuEventSynchronize", JAVA_LONG);
    cuEventElapsedTime = fn("cuEventElapsedTime", JAVA_LONG, JAVA_LONG, JAVA_LONG);
    cuEventDestroy = fn("cuEventDestroy_v2", JAVA_LONG);
    cuGetErrorName = fn("cuGetErrorName", JAVA_INT, JAVA_LONG);
  }

  private MethodHandle fn(String name, MemoryLayout... args) {
    return LINKER.downcallHandle(lib.find(name).orElseThrow(() -> new IllegalStateException("libcuda lacks " + name)),
        FunctionDescriptor.of(JAVA_INT, args));
  }

  /**
   * Looks for the driver once per JVM: loads libcuda.so.1, cuInit, lists devices. Never throws: a machine without a
   * driver gets a probe whose reason says so and how to fix it.
   */
  public static synchronized Probe probe() {
    if (probe != null) return probe;
    SymbolLookup lib;
    try {
      lib = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
    } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
      return probe = new Probe("no driver: libcuda.so.1 not found (install the NVIDIA driver, e.g. apt-get install"
          + " nvidia-driver, or run on a GPU machine)", 0, List.of());
    }
    try {
      CudaDriver d = new CudaDriver(lib);
      int rc = (int) d.cuInit.invokeExact(0);
      if (rc != 0) return probe = new Probe("no usable driver: cuInit returned " + d.errorName(rc), 0, List.of());
      try (Arena a = Arena.ofConfined()) {
        MemorySegment out = a.allocate(JAVA_LONG, 4);
        d.check((int) d.cuDriverGetVersion.invokeExact(out.address()), "cuDriverGetVersion");
        int version = out.get(JAVA_INT, 0);
        d.check((int) d.cuDeviceGetCount.invokeExact(out.address()), "cuDeviceGetCount");
        int n = out.get(JAVA_INT, 0);
        List<DeviceInfo> devices = new ArrayList<>();
        MemorySegment name = a.allocate(256);
        for (int i = 0; i < n; i++) {
          int dev = d.device(i, out);
          d.check((int) d.cuDeviceGetName.invokeExact(name.address(), 256, dev), "cuDeviceGetName");
          d.check((int) d.cuDeviceTotalMem.invokeExact(out.address(), dev), "cuDeviceTotalMem_v2");
          long mem = out.get(JAVA_LONG, 0);
          d.check((int) d.cuDeviceGetAttribute.invokeExact(out.address(), 75, dev), "cuDeviceGetAttribute");
          int major = out.get(JAVA_INT, 0);
          d.check((int) d.cuDeviceGetAttribute.invokeExact(out.address(), 76, dev), "cuDeviceGetAttribute");
          int minor = out.get(JAVA_INT, 0);
          devices.add(new DeviceInfo(i, name.getString(0), major, minor, mem));
        }
        instance = d;
        return probe = new Probe(n == 0 ? "driver " + version + " present but no CUDA device" : null, version,
            List.copyOf(devices));
      }
    } catch (Throwable t) {
      return probe = new Probe("CUDA driver probe failed: " + t, 0, List.of());
    }
  }

  /** The driver, or an IllegalStateException carrying the probe's reason. */
  public static CudaDriver get() {
    Probe p = probe();
    if (!p.available()) throw new IllegalStateException("CUDA unavailable: " + p.reason());
    return instance;
  }

  private int device(int ordinal, MemorySegment out) throws Throwable {
    check((int) cuDeviceGet.invokeExact(out.address(), ordinal), "cuDeviceGet");
    return out.get(JAVA_INT, 0);
  }

  String errorName(int rc) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(ADDRESS);
      if ((int) cuGetErrorName.invokeExact(rc, out.address()) != 0) return "CUresult " + rc;
      return out.get(ADDRESS, 0).reinterpret(256).getString(0);
    } catch (Throwable t) {
      return "CUresult " + rc;
    }
  }

  void check(int rc, String call) {
    if (rc != 0) throw new CudaException(call, rc, errorName(rc));
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) return r;
    if (t instanceof Error e) throw e;
    return new IllegalStateException(t);
  }

  /** Makes device {@code index}'s primary context current on this thread (libtorch's context too). */
  public void useDevice(int index) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      int dev = device(index, out);
      check((int) cuDevicePrimaryCtxRetain.invokeExact(out.address(), dev), "cuDevicePrimaryCtxRetain");
      check((int) cuCtxSetCurrent.invokeExact(out.get(JAVA_LONG, 0)), "cuCtxSetCurrent");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void synchronize() {
    try {
      check((int) cuCtxSynchronize.invokeExact(), "cuCtxSynchronize");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Loads a module from a fatbin / cubin / PTX image (copied, so {@code image} may be freed afterwards). */
  public long loadModule(byte[] image) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment img = a.allocate(image.length + 1L, 16);
      img.copyFrom(MemorySegment.ofArray(image));
      MemorySegment out = a.allocate(JAVA_LONG);
      check((int) cuModuleLoadData.invokeExact(out.address(), img.address()), "cuModuleLoadData");
      return out.get(JAVA_LONG, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void unloadModule(long module) {
    try {
      check((int) cuModuleUnload.invokeExact(module), "cuModuleUnload");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public long function(long module, String name) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      MemorySegment n = a.allocateFrom(name);
      check((int) cuModuleGetFunction.invokeExact(out.address(), module, n.address()), "cuModuleGetFunction(" + name + ")");
      return out.get(JAVA_LONG, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Launches {@code function} on a 1-D grid. {@code args}: one segment per kernel parameter holding its value (the
   * driver reads {@code kernelParams[i]} as a pointer to parameter i).
   */
  public void launch(long function, int grid, int block, long stream, MemorySegment... args) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment params = a.allocate(ADDRESS, args.length);
      for (int i = 0; i < args.length; i++) params.setAtIndex(ADDRESS, i, args[i]);
      check((int) cuLaunchKernel.invokeExact(function, grid, 1, 1, block, 1, 1, 0, stream, params.address(), 0L),
          "cuLaunchKernel");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public long malloc(long bytes) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      check((int) cuMemAlloc.invokeExact(out.address(), bytes), "cuMemAlloc_v2");
      return out.get(JAVA_LONG, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void free(long dptr) {
    try {
      check((int) cuMemFree.invokeExact(dptr), "cuMemFree_v2");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void copyToDevice(long dptr, MemorySegment src) {
    try {
      check((int) cuMemcpyHtoD.invokeExact(dptr, src.address(), src.byteSize()), "cuMemcpyHtoD_v2");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void copyToHost(MemorySegment dst, long dptr) {
    try {
      check((int) cuMemcpyDtoH.invokeExact(dst.address(), dptr, dst.byteSize()), "cuMemcpyDtoH_v2");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public long createStream() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      check((int) cuStreamCreate.invokeExact(out.address(), 1 /* CU_STREAM_NON_BLOCKING */), "cuStreamCreate");
      return out.get(JAVA_LONG, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void synchronizeStream(long stream) {
    try {
      check((int) cuStreamSynchronize.invokeExact(stream), "cuStreamSynchronize");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void destroyStream(long stream) {
    try {
      check((int) cuStreamDestroy.invokeExact(stream), "cuStreamDestroy_v2");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public long createEvent() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      check((int) cuEventCreate.invokeExact(out.address(), 0), "cuEventCreate");
      return out.get(JAVA_LONG, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void recordEvent(long event, long stream) {
    try {
      check((int) cuEventRecord.invokeExact(event, stream), "cuEventRecord");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Milliseconds between two recorded events (waits for {@code end}). */
  public float elapsedMillis(long start, long end) {
    try (Arena a = Arena.ofConfined()) {
      check((int) cuEventSynchronize.invokeExact(end), "cuEventSynchronize");
      MemorySegment out = a.allocate(JAVA_FLOAT);
      check((int) cuEventElapsedTime.invokeExact(out.address(), start, end), "cuEventElapsedTime");
      return out.get(JAVA_FLOAT, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void destroyEvent(long event) {
    try {
      check((int) cuEventDestroy.invokeExact(event), "cuEventDestroy_v2");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

}

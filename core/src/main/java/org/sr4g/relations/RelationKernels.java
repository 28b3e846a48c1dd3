package org.sr4g.relations;

import java.lang.System.Logger.Level;
import java.lang.reflect.InvocationTargetException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import org.sr4g.UserInputException;

/**
 * Chooses the kernel once, at class initialization, like Lucene's VectorizationProvider: the vector kernel when it can
 * run, otherwise the scalar oracle, and the reason for not using the vector kernel is logged once (a warning when it
 * is a fallback, a debug line when {@code -Dsr4g.kernel=scalar} asked for it). A property value we do not know is a
 * configuration error reported by {@link #best()}, never silently mapped to a default.
 *
 * <p>One more decision waits for the workload: in a fresh JVM the vector kernel runs the Vector API's Java fallbacks
 * until C2 has compiled it, which costs more CPU than it saves on a small run. {@link #forPairs} therefore gives a
 * run of fewer than {@link #VECTOR_MIN_PAIRS} ordered box pairs the scalar kernel when the choice was {@code auto},
 * and logs that once; an explicit {@code -Dsr4g.kernel=vector} or {@code scalar} is always obeyed.
 */
final class RelationKernels {
  static final String KERNEL_PROPERTY = "sr4g.kernel";
  static final String VECTOR_BITS_PROPERTY = "sr4g.vector.bits";
  private static final String VECTOR_MODULE = "jdk.incubator.vector";
  private static final String VECTOR_CLASS = "org.sr4g.relations.VectorRelationKernel";

  /**
   * Ordered box pairs from which the vector kernel pays for its warm-up in a fresh JVM. Measured with whole {@code
   * generate} runs, AOT cache on (docs/generate-speed.md): the vector kernel cost ~1.0 s more CPU than the scalar one
   * at 2.3 M pairs (20,000 synthetic images) and ~0.7 s more at 12.8 M (118,287, COCO train2017's size); warm it
   * saves ~30-40 ns a pair (JMH: 255 M against 24 M pairs/s), so the two cross at about 30-40 M pairs. An
   * extrapolation: no run that large fitted this machine's memory.
   */
  static final long VECTOR_MIN_PAIRS = 30_000_000L;

  private static final AtomicBoolean WORKLOAD_LOGGED = new AtomicBoolean();

  private static final Choice CHOICE = choose(
      System.getProperty(KERNEL_PROPERTY), System.getProperty(VECTOR_BITS_PROPERTY),
      ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent(), RelationKernels::loadVectorKernel, RelationKernels::log);

  private RelationKernels() {}

  /**
   * What start-up decided: a kernel and, unless it is the vector kernel, why; or, instead, a configuration error.
   * {@code forced}: {@code -Dsr4g.kernel} named the kernel (no workload changes it).
   */
  record Choice(RelationKernel kernel, String fallbackReason, String error, boolean forced) {
    Choice(RelationKernel kernel, String fallbackReason, String error) {
      this(kernel, fallbackReason, error, false);
    }
  }

  /** Loads the vector kernel; reflective so that a JVM without the module never links the class. */
  @FunctionalInterface
  interface VectorLoader {
    RelationKernel load() throws ReflectiveOperationException;
  }

  static RelationKernel best() {
    if (CHOICE.error() != null) throw new UserInputException(CHOICE.error());
    return CHOICE.kernel();
  }

  static Optional<String> fallbackReason() {
    return Optional.ofNullable(CHOICE.fallbackReason());
  }

  /** {@link #best()}, or the scalar kernel for a run of fewer than {@link #VECTOR_MIN_PAIRS} pairs (see above). */
  static RelationKernel forPairs(long pairs) {
    return forPairs(CHOICE, pairs, (level, message) -> {
      if (WORKLOAD_LOGGED.compareAndSet(false, true)) log(level, message);
    });
  }

  /** The workload decision as a function of its inputs, for tests; {@code log} receives at most one line. */
  static RelationKernel forPairs(Choice c, long pairs, BiConsumer<Level, String> log) {
    if (c.error() != null) throw new UserInputException(c.error());
    if (c.forced() || c.kernel() == RelationKernel.scalar() || pairs >= VECTOR_MIN_PAIRS) return c.kernel();
    log.accept(Level.DEBUG, "sr4g relation kernel: scalar, not " + c.kernel().name() + ", because " + smallRunReason(pairs));
    return RelationKernel.scalar();
  }

  /** Why a run of {@code pairs} pairs gets the scalar kernel under {@code auto}. */
  static String smallRunReason(long pairs) {
    return pairs + " box pairs are fewer than the " + VECTOR_MIN_PAIRS + " from which the vector kernel's warm-up pays"
        + " (-D" + KERNEL_PROPERTY + "=vector forces it)";
  }

  /**
   * The decision as a function of its inputs, so tests can drive every branch: {@code kernelProperty} and {@code
   * bitsProperty} are the raw system properties (null when unset), {@code log} receives at most one line.
   */
  static Choice choose(
      String kernelProperty, String bitsProperty, boolean vectorModulePresent, VectorLoader vector,
      BiConsumer<Level, String> log) {
    String mode = kernelProperty == null ? "auto" : kernelProperty.trim();
    if (!mode.equals("auto") && !mode.equals("scalar") && !mode.equals("vector")) {
      return new Choice(null, null, "-D" + KERNEL_PROPERTY + "=" + kernelProperty
          + " is not a relation kernel: expected auto (the default), scalar or vector");
    }
    try {
      requestedVectorBits(bitsProperty);
    } catch (UserInputException e) {
      return new Choice(null, null, e.getMessage());
    }
    if (mode.equals("scalar")) {
      String why = "-D" + KERNEL_PROPERTY + "=scalar asks for the scalar kernel";
      log.accept(Level.DEBUG, "sr4g relation kernel: scalar (" + why + ")");
      return new Choice(RelationKernel.scalar(), why, null, true);
    }
    String why;
    if (!vectorModulePresent) {
      why = "the " + VECTOR_MODULE + " module is not readable: start java with --add-modules " + VECTOR_MODULE
          + " (./sr4g and the tests do)";
    } else {
      try {
        return new Choice(vector.load(), null, null, mode.equals("vector"));
      } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
        why = "the vector kernel failed to load: " + e + (e.getCause() == null ? "" : ", caused by " + e.getCause());
      }
    }
    if (mode.equals("vector")) {
      return new Choice(null, null, "-D" + KERNEL_PROPERTY + "=vector, but " + why);
    }
    log.accept(Level.WARNING, "sr4g relation kernel: scalar, about 10x slower than the vector kernel, because " + why);
    return new Choice(RelationKernel.scalar(), why, null);
  }

  /**
   * The vector width asked for with {@code -Dsr4g.vector.bits}: 128, 256 or 512, or 0 when unset (the CPU's
   * preferred width, capped at 512).
   *
   * @throws UserInputException for any other value
   */
  static int requestedVectorBits(String property) {
    if (property == null) return 0;
    switch (property.trim()) {
      case "128":
        return 128;
      case "256":
        return 256;
      case "512":
        return 512;
      default:
        throw new UserInputException("-D" + VECTOR_BITS_PROPERTY + "=" + property
            + " is not a vector width: expected 128, 256 or 512 (bits), or leave it unset for the CPU's preferred width");
    }
  }

  private static void log(Level level, String message) {
    System.getLogger(RelationKernel.class.getName()).log(level, message);
  }

  private static RelationKernel loadVectorKernel() throws ReflectiveOperationException {
    Class<?> c = Class.forName(VECTOR_CLASS, true, RelationKernels.class.getClassLoader());
    try {
      return (RelationKernel) c.getDeclaredMethod("create").invoke(null);
    } catch (InvocationTargetException e) {
      // Report what create() threw, not the reflective wrapper.
      if (e.getCause() instanceof RuntimeException) throw (RuntimeException) e.getCause();
      if (e.getCause() instanceof Error) throw (Error) e.getCause();
      throw e;
    }
  }
}

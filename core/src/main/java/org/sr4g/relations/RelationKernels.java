package org.sr4g.relations;

import java.lang.invoke.MethodHandles;

/** Chooses the kernel at class-initialization time, like Lucene's VectorizationProvider. */
final class RelationKernels {
  static final RelationKernel BEST = choose();

  private RelationKernels() {}

  private static RelationKernel choose() {
    String forced = System.getProperty("sr4g.kernel", "");
    if (forced.equals("scalar")) return ScalarRelationKernel.INSTANCE;
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      // Not started with --add-modules jdk.incubator.vector: the vector class would fail to link.
      return ScalarRelationKernel.INSTANCE;
    }
    try {
      Class<?> c = Class.forName("org.sr4g.relations.VectorRelationKernel", true, RelationKernels.class.getClassLoader());
      return (RelationKernel) MethodHandles.lookup().findStatic(c, "create", java.lang.invoke.MethodType.methodType(RelationKernel.class)).invoke();
    } catch (Throwable e) {
      return ScalarRelationKernel.INSTANCE;
    }
  }
}

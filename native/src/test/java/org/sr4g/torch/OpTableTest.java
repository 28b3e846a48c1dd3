package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Java mirrors of sr4g_torch.h's code lists ({@link Op}, {@link DType}, the special device/dtype codes) against
 * the library itself: every Java constant's code names the same entry in C, and C has no code Java lacks.
 */
class OpTableTest {
  // sr4g_code_list
  static final int DTYPE = 0, UNARY = 1, BINARY = 2, SCALAR = 3, REDUCE = 4;

  @BeforeEach
  void needTorch() {
    NativeAssume.torch();
  }

  static String cName(int list, int code) {
    long p = Native.call(c -> (long) Native.CODE_NAME.invokeExact(list, code, c.outAddr(0))).out(0);
    return p == 0 ? null : MemorySegment.ofAddress(p).reinterpret(64).getString(0);
  }

  static void checkList(int list, Enum<?>[] javaSide) {
    for (Enum<?> e : javaSide) assertEquals(e.name(), cName(list, e.ordinal()), "code " + e.ordinal() + " of list " + list);
    assertNull(cName(list, javaSide.length), "C has a code Java does not name: " + javaSide.length + " in list " + list);
    assertNull(cName(list, -1));
  }

  @Test
  void opListsMatchTheHeader() {
    checkList(UNARY, Op.Unary.values());
    checkList(BINARY, Op.Binary.values());
    checkList(SCALAR, Op.Scalar.values());
    checkList(REDUCE, Op.Reduce.values());
  }

  @Test
  void dtypesAndSpecialCodesMatchTheHeader() {
    for (DType d : DType.values()) assertEquals(d.name(), cName(DTYPE, d.code), d.toString());
    assertNull(cName(DTYPE, DType.values().length));
    Native.Scratch s = Native.call(c -> (long) Native.SPECIAL_CODES.invokeExact(c.outAddr(0), c.outAddr(1), c.outAddr(2)));
    assertEquals(Native.DTYPE_KEEP, (int) s.out(0));
    assertEquals(Device.CPU.code(), (int) s.out(1));
    assertEquals(Native.DEVICE_KEEP, (int) s.out(2));
  }

  @Test
  void namedOpsComputeWhatTheirNamesSay() {
    // A code shifted on one side would still pass the name check if both sides shifted; the values catch a Java
    // method bound to the wrong constant.
    try (TensorScope scope = TensorScope.open()) {
      Tensor a = Tensor.of(new float[] {4f, 9f}, 2), b = Tensor.of(new float[] {2f, 3f}, 2);
      assertEquals(java.util.List.of(6f, 12f), boxed(a.add(b)));
      assertEquals(java.util.List.of(2f, 6f), boxed(a.sub(b)));
      assertEquals(java.util.List.of(8f, 27f), boxed(a.mul(b)));
      assertEquals(java.util.List.of(2f, 3f), boxed(a.div(b)));
      assertEquals(java.util.List.of(16f, 729f), boxed(a.pow(b)));
      assertEquals(java.util.List.of(-4f, -9f), boxed(a.rsub(0)));
      assertEquals(java.util.List.of(2f, 3f), boxed(a.sqrt()));
      assertEquals(java.util.List.of(2f, 0.5f), boxed(Tensor.of(new float[] {0.25f, 4f}, 2).rsqrt()));
      assertEquals(java.util.List.of(16f, 81f), boxed(a.square()));
      assertEquals(java.util.List.of(13f), boxed(a.sum().reshape(1)));
      assertEquals((4 - 2) * (4 - 2) / 2.0 + (9 - 3) * (9 - 3) / 2.0, Nn.mseLoss(a, b).item(), 1e-6);
    }
  }

  private static java.util.List<Float> boxed(Tensor t) {
    float[] f = t.toFloatArray();
    java.util.List<Float> r = new java.util.ArrayList<>();
    for (float v : f) r.add(v);
    return r;
  }
}

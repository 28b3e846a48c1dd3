package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Sliced attention against the unsliced one (forward and gradients), the slicing policy, the multi-head layout. */
class AttentionTest {
  private TensorScope scope;
  private Generator gen;

  @BeforeEach
  void open() {
    NativeAssume.torch();
    scope = TensorScope.open();
    gen = new Generator(Device.CPU, 11);
  }

  @AfterEach
  void close() {
    if (scope != null) scope.close();
    if (gen != null) gen.close();
  }

  private Tensor randn(long... shape) {
    return Tensor.randn(gen, DType.F32, shape);
  }

  @Test
  void slicedForwardEqualsUnslicedForEveryMaskKind() {
    // 37 query rows: chunks of 5 leave a short last chunk.
    Tensor q = randn(2, 3, 37, 8), k = randn(2, 3, 41, 8), v = randn(2, 3, 41, 6);
    Tensor qs = randn(2, 3, 37, 8), ks = randn(2, 3, 37, 8), vs = randn(2, 3, 37, 6);
    boolean[] keep = new boolean[37 * 41];
    for (int i = 0; i < keep.length; i++) keep[i] = (i * 7919) % 5 != 0;
    Tensor boolMask = Tensor.of(keep, 1, 1, 37, 41);
    Tensor floatMask = randn(2, 1, 37, 41);
    Tensor rowBroadcast = randn(1, 41); // one row for every query
    record Case(String name, Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal) {}
    List<Case> cases = List.of(new Case("plain", q, k, v, null, false), new Case("bool mask", q, k, v, boolMask, false),
        new Case("float mask", q, k, v, floatMask, false), new Case("broadcast row", q, k, v, rowBroadcast, false),
        new Case("causal", qs, ks, vs, null, true), new Case("causal + float", qs, ks, vs, randn(37, 37), true));
    for (Case c : cases) {
      Tensor whole = Nn.attention(c.q, c.k, c.v, c.mask, c.causal, AttentionSlicing.OFF);
      assertEquals(1, Nn.lastAttentionChunks());
      for (AttentionSlicing s : List.of(AttentionSlicing.rows(5), AttentionSlicing.rows(1), AttentionSlicing.rows(36),
          new AttentionSlicing(AttentionSlicing.Mode.AUTO, 0, 2 * 3 * 41 * 4 * 7))) {
        Tensor sliced = Nn.attention(c.q, c.k, c.v, c.mask, c.causal, s);
        assertTrue(Nn.lastAttentionChunks() > 1, c.name + " " + s + ": not sliced");
        double rel = TensorDiff.relative(sliced, whole);
        assertTrue(rel <= 1e-6, c.name + " " + s + ": sliced differs from unsliced by " + rel);
      }
    }
  }

  @Test
  void slicedGradientsEqualUnsliced() {
    for (boolean causal : new boolean[] {false, true}) {
      for (Tensor mask : new Tensor[] {null, randn(1, 1, 23, 23)}) {
        float[] q0 = randn(2, 2, 23, 8).toFloatArray(), k0 = randn(2, 2, 23, 8).toFloatArray();
        float[] v0 = randn(2, 2, 23, 4).toFloatArray();
        Tensor w = randn(2, 2, 23, 4);
        Tensor[] plain = grads(q0, k0, v0, w, mask, causal, AttentionSlicing.OFF);
        Tensor[] sliced = grads(q0, k0, v0, w, mask, causal, AttentionSlicing.rows(4));
        for (int i = 0; i < 4; i++) {
          double rel = TensorDiff.relative(sliced[i], plain[i]);
          assertTrue(rel <= 1e-5, "causal " + causal + ", mask " + (mask != null) + ", tensor " + i + ": " + rel);
        }
      }
    }
  }

  /** out, dq, dk, dv of sum(attention(q, k, v) · w). */
  private Tensor[] grads(float[] q0, float[] k0, float[] v0, Tensor w, Tensor mask, boolean causal, AttentionSlicing s) {
    Tensor q = Tensor.of(q0, 2, 2, 23, 8).requiresGrad(true), k = Tensor.of(k0, 2, 2, 23, 8).requiresGrad(true);
    Tensor v = Tensor.of(v0, 2, 2, 23, 4).requiresGrad(true);
    Tensor out = Nn.attention(q, k, v, mask, causal, s);
    out.mul(w).sum().backward();
    return new Tensor[] {out.detach(), q.grad(), k.grad(), v.grad()};
  }

  @Test
  void autoSlicesOnlyPastTheBudget() {
    Tensor q = randn(1, 2, 64, 8), k = randn(1, 2, 64, 8), v = randn(1, 2, 64, 8);
    long scores = 2L * 64 * 64 * 4; // bytes of the whole score matrix
    Nn.attention(q, k, v, null, false, new AttentionSlicing(AttentionSlicing.Mode.AUTO, 0, scores));
    assertEquals(1, Nn.lastAttentionChunks());
    Nn.attention(q, k, v, null, false, new AttentionSlicing(AttentionSlicing.Mode.AUTO, 0, scores / 4));
    assertEquals(4, Nn.lastAttentionChunks());
    Nn.attention(q, k, v, null, false, new AttentionSlicing(AttentionSlicing.Mode.AUTO, 0, 1));
    assertEquals(64, Nn.lastAttentionChunks()); // at least one row per chunk
    Nn.attention(q, k, v, null, false); // the process default: auto, 256 MiB
    assertEquals(1, Nn.lastAttentionChunks());
  }

  @Test
  void multiHeadMatchesPerHeadAttention() {
    Tensor q = randn(2, 5, 12), k = randn(2, 7, 12), v = randn(2, 7, 12);
    Tensor out = Nn.multiHeadAttention(q, k, v, 3, null, false);
    assertEquals(List.of(2L, 5L, 12L), List.of(out.size(0), out.size(1), out.size(2)));
    for (int h = 0; h < 3; h++) {
      Tensor qh = q.slice(2, 4L * h, 4L * h + 4, 1), kh = k.slice(2, 4L * h, 4L * h + 4, 1);
      Tensor vh = v.slice(2, 4L * h, 4L * h + 4, 1);
      Tensor ref = qh.matmul(kh.transpose(1, 2)).mul(0.5).softmax(-1).matmul(vh);
      assertTrue(TensorDiff.relative(out.slice(2, 4L * h, 4L * h + 4, 1).contiguous(), ref) <= 1e-6, "head " + h);
    }
  }

  @Test
  void parseAndBadShapes() {
    assertEquals(AttentionSlicing.OFF, AttentionSlicing.parse("off"));
    assertEquals(AttentionSlicing.AUTO, AttentionSlicing.parse(" AUTO "));
    assertEquals(AttentionSlicing.rows(512), AttentionSlicing.parse("512"));
    assertThrows(IllegalArgumentException.class, () -> AttentionSlicing.parse("0"));
    assertThrows(IllegalArgumentException.class, () -> AttentionSlicing.parse("half"));
    assertThrows(TorchException.class, () -> Nn.attention(randn(2, 4, 8), randn(2, 4, 6), randn(2, 4, 8), null, false));
    assertThrows(TorchException.class, () -> Nn.attention(randn(2, 4, 8), randn(2, 4, 8), randn(2, 5, 8), null, false));
  }
}

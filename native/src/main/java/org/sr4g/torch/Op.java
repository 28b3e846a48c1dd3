package org.sr4g.torch;

/**
 * The op codes of {@code sr4g_unary}, {@code sr4g_binary}, {@code sr4g_scalar} and {@code sr4g_reduce}, mirrored from
 * the lists in {@code sr4g_torch.h} ({@code SR4G_UNARY_OPS} …), where they are defined: a constant's ordinal is its C
 * code and its name the C name. {@code OpTableTest} checks every constant against the library
 * ({@code sr4g_code_name}), so a list edited on one side only fails the build's tests.
 */
final class Op {
  private Op() {}

  enum Unary {
    NEG, EXP, SQRT, SIN, COS, SILU, GELU, GELU_TANH, SIGMOID, CONTIGUOUS, RELU, TANH, LOG, ABS, SUM, MEAN, DETACH,
    CLONE, RSQRT, SQUARE
  }

  enum Binary {
    ADD, SUB, MUL, DIV, MATMUL, BMM, MSE_LOSS, POW
  }

  /** Tensor op double; {@code RSUB} is {@code s - a}. */
  enum Scalar {
    ADD, SUB, MUL, DIV, POW, RSUB
  }

  enum Reduce {
    SUM, MEAN
  }
}

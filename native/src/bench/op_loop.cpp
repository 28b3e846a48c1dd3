// The C++ baseline for bench/.../NativeOverheadBench: the same tiny ops, called directly on at::Tensor, so the
// difference is what the Java path (FFM downcall, handle, scope) costs per op.
//
// Built twice by the Makefile: as the program `op_loop [iterations]` (prints ns/op per case), and as
// libsr4g_oploop.so, whose sr4g_op_loop_run the JMH benchmark calls through FFM so that the C++ loop and the Java
// calls are measured in one JMH run, in one process, under the same machine load.
#include <ATen/core/Tensor.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/ones.h>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {
struct Inputs {
  at::Tensor a = at::ones({16}), b = at::ones({16}), m = at::ones({8, 8});
};
volatile int64_t sink = 0;

// Each case creates and destroys one result tensor per op, as the Java benchmark does inside a TensorScope.
// op 0 add, 1 mul by scalar, 2 matmul 8x8, 3 a chain of four adds (counted as one iteration).
void run(const Inputs& in, int32_t op, int64_t iters) {
  const at::Tensor &a = in.a, &b = in.b, &m = in.m;
  int64_t s = 0;
  switch (op) {
    case 0: for (int64_t i = 0; i < iters; i++) { at::Tensor r = a.add(b); s += r.dim(); } break;
    case 1: for (int64_t i = 0; i < iters; i++) { at::Tensor r = a.mul(2.0); s += r.dim(); } break;
    case 2: for (int64_t i = 0; i < iters; i++) { at::Tensor r = at::matmul(m, m); s += r.dim(); } break;
    case 3: for (int64_t i = 0; i < iters; i++) { at::Tensor r = a.add(b).add(b).add(b).add(b); s += r.dim(); } break;
    default: break;
  }
  sink = sink + s;
}
}  // namespace

extern "C" int64_t sr4g_op_loop_run(int32_t op, int64_t iters) {
  static const Inputs* in = new Inputs();  // built once, on first use, never freed (a benchmark helper)
  try {
    run(*in, op, iters);
    return 0;
  } catch (...) {
    return -1;
  }
}

#ifndef SR4G_OP_LOOP_LIB
int main(int argc, char** argv) {
  long iters = argc > 1 ? std::atol(argv[1]) : 200000;
  Inputs in;
  const char* names[] = {"add", "mul_scalar", "matmul8", "add_chain4"};
  for (int op = 0; op < 4; op++) {
    run(in, op, iters / 10);  // warm-up
    auto t0 = std::chrono::steady_clock::now();
    run(in, op, iters);
    auto t1 = std::chrono::steady_clock::now();
    double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / iters;
    std::printf("%-12s %10.1f ns/op\n", names[op], ns);
  }
  return 0;
}
#endif

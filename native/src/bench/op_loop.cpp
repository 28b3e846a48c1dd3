// The C++ baseline for bench/.../NativeOverheadBench: the same tiny ops, called directly on at::Tensor, so the
// difference is what the Java path (FFM downcall, handle, scope) costs per op.
// Usage: op_loop [iterations]. Prints ns/op per case.
#include <ATen/core/Tensor.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/ones.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>

template <typename F>
static void bench(const char* name, long iters, F f) {
  for (long i = 0; i < iters / 10; i++) f();  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < iters; i++) f();
  auto t1 = std::chrono::steady_clock::now();
  double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / iters;
  std::printf("%-12s %10.1f ns/op\n", name, ns);
}

int main(int argc, char** argv) {
  long iters = argc > 1 ? std::atol(argv[1]) : 200000;
  at::Tensor a = at::ones({16}), b = at::ones({16});
  at::Tensor m = at::ones({8, 8});
  volatile long sink = 0;
  // Each case creates and destroys one result tensor, as the Java benchmark does inside a TensorScope.
  bench("add", iters, [&] { at::Tensor r = a.add(b); sink = sink + r.dim(); });
  bench("mul_scalar", iters, [&] { at::Tensor r = a.mul(2.0); sink = sink + r.dim(); });
  bench("matmul8", iters, [&] { at::Tensor r = at::matmul(m, m); sink = sink + r.dim(); });
  bench("add_chain4", iters, [&] {
    at::Tensor r = a.add(b).add(b).add(b).add(b);
    sink = sink + r.dim();
  });
  return 0;
}

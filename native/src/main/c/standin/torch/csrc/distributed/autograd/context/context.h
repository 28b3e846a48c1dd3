// Stand-in for libtorch's torch/csrc/distributed/autograd/context/context.h, which Debian's libtorch-dev 1.13 does not
// ship although c10d/reducer.hpp includes it. build-native.sh puts this folder on the include path only when the real
// header is absent.
//
// reducer.hpp needs two names from it: DistAutogradContext::GradCallback (checked there to be
// std::function<bool(at::Tensor&)>) and ContextPtr, a std::shared_ptr<DistAutogradContext> held in the Reducer's
// RpcContext member. A shared_ptr's size and layout do not depend on its element type, so the Reducer compiled against
// this declaration has the layout libtorch compiled it with; sr4g_dist.cpp asserts that for 1.13 (offsets read from
// libtorch_cpu.so's own Reducer constructor). Nothing here is ever instantiated or called: sr4g runs no distributed
// autograd (RPC).
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};

using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch

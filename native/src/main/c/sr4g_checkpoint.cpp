// Gradient checkpointing as torch.utils.checkpoint's reentrant variant does it, for segments written in Java: the
// segment's forward ran without a graph (in Java), and its outputs get one autograd node, CheckpointNode, as grad_fn.
// The node keeps only the segment's inputs; its backward calls back into Java (an FFM upcall) to recompute the segment
// with a graph and back-propagate the output gradients through it (a nested, reentrant backward, which libtorch's
// engine supports: torch.utils.checkpoint does the same), then returns the inputs' gradients to the outer backward.
// So a plain loss.backward() reaches every checkpointed parameter; nothing has to replace it.
#include "sr4g_internal.h"

#include <torch/csrc/autograd/function.h>
#include <atomic>
#include <stdexcept>

using namespace sr4g;

namespace {

std::atomic<sr4g_replay_fn> replay_cb{nullptr};
std::atomic<sr4g_release_fn> release_cb{nullptr};

struct CheckpointNode : public torch::autograd::Node {
  int64_t id;
  std::vector<at::Tensor> inputs;  // detached: the node holds values, the edges hold the inputs' history
  std::vector<bool> input_grad;    // whether input i required a gradient when the segment ran
  bool released = false;

  CheckpointNode(int64_t id_, std::vector<at::Tensor> in, std::vector<bool> needs)
      : id(id_), inputs(std::move(in)), input_grad(std::move(needs)) {}

  ~CheckpointNode() override {
    // The Java side forgets the segment (its block and modes); never throws (a destructor).
    if (auto f = release_cb.load()) f(id);
  }

  std::string name() const override { return "sr4g::CheckpointBackward"; }

  void release_variables() override {
    inputs.clear();
    released = true;
  }

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    if (released) throw std::runtime_error("checkpointed segment: backward through it a second time (its inputs were freed)");
    sr4g_replay_fn f = replay_cb.load();
    if (f == nullptr) throw std::runtime_error("checkpointed segment: no replay callback registered");
    // Fresh handles for the callback, which frees them: leaves for the inputs (requiring grad where the input did),
    // the output gradients (NULL where no gradient reached an output).
    std::vector<sr4g_t> in, g;
    std::vector<sr4g_t> gin(inputs.size(), nullptr);
    for (size_t i = 0; i < inputs.size(); i++) {
      at::Tensor leaf = inputs[i].detach();
      leaf.requires_grad_(input_grad[i]);
      in.push_back(wrap(std::move(leaf)));
    }
    for (auto& t : grads) g.push_back(t.defined() ? wrap(at::Tensor(t)) : nullptr);
    char err[1024] = {0};
    const int32_t rc = f(id, in.data(), static_cast<int64_t>(in.size()), g.data(), static_cast<int64_t>(g.size()),
                         gin.data(), err, sizeof err);
    torch::autograd::variable_list result(inputs.size());
    for (size_t i = 0; i < gin.size(); i++) {
      if (gin[i] == nullptr) continue;
      at::Tensor* h = static_cast<at::Tensor*>(gin[i]);
      if (rc == 0) result[i] = std::move(*h);
      delete h;
      live.fetch_sub(1, std::memory_order_relaxed);
    }
    if (rc != 0) throw std::runtime_error(err[0] != '\0' ? err : "checkpointed segment: recompute failed");
    return result;
  }
};

}  // namespace

extern "C" {

sr4g_err sr4g_checkpoint_callbacks(sr4g_replay_fn replay, sr4g_release_fn release) {
  SR4G_TRY
  replay_cb.store(replay);
  release_cb.store(release);
  SR4G_END
}

sr4g_err sr4g_checkpoint(const sr4g_t* inputs, int64_t n_in, const sr4g_t* outputs, int64_t n_out, int64_t id,
                         sr4g_t* outs) {
  SR4G_TRY
  if (replay_cb.load() == nullptr) throw std::runtime_error("sr4g_checkpoint: no replay callback registered");
  std::vector<at::Tensor> in, values;
  std::vector<bool> needs;
  for (int64_t i = 0; i < n_in; i++) {
    const at::Tensor& t = T(inputs[i]);
    in.push_back(t);
    values.push_back(t.detach());
    needs.push_back(t.requires_grad());
  }
  std::vector<at::Tensor> out;
  for (int64_t i = 0; i < n_out; i++) {
    const at::Tensor& o = T(outputs[i]);
    if (o.requires_grad()) throw std::invalid_argument("sr4g_checkpoint: output " + std::to_string(i) + " already has a graph");
    if (!o.is_floating_point()) throw std::invalid_argument("sr4g_checkpoint: output " + std::to_string(i) + " is not floating point");
    out.push_back(o.variable_data());  // same storage, no autograd meta of its own yet
  }
  // Built only now, so a failed check above runs no release callback for an id the caller still owns.
  std::shared_ptr<CheckpointNode> node(new CheckpointNode(id, std::move(values), std::move(needs)),
                                       torch::autograd::deleteNode);
  node->set_next_edges(torch::autograd::collect_next_edges(in));
  for (auto& o : out) torch::autograd::create_gradient_edge(o, node);
  for (int64_t i = 0; i < n_out; i++) outs[i] = wrap(std::move(out[i]));
  SR4G_END
}

}  // extern "C"

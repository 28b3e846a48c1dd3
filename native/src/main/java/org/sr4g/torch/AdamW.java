package org.sr4g.torch;

import java.util.ArrayList;
import java.util.List;

/**
 * torch.optim.AdamW: decoupled weight decay and bias-corrected moments. The update runs in the C layer with in-place
 * ATen ops in torch's own order, so results equal torch's for the same inputs. State (exp_avg, exp_avg_sq, step) is
 * owned by this object, created lazily as zeros, and readable and writable for checkpoints.
 */
public final class AdamW implements AutoCloseable {
  private final List<Tensor> params;
  private final Tensor[] expAvg;
  private final Tensor[] expAvgSq;
  private double lr;
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private long step;

  public AdamW(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
    this.params = List.copyOf(params);
    this.expAvg = new Tensor[params.size()];
    this.expAvgSq = new Tensor[params.size()];
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  /** torch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
  public AdamW(List<Tensor> params, double lr) {
    this(params, lr, 0.9, 0.999, 1e-8, 0.01);
  }

  public void setLearningRate(double lr) {
    this.lr = lr;
  }

  public long stepCount() {
    return step;
  }

  /** One update from the parameters' current gradients. */
  public void step() {
    ensureState();
    Native.Scratch s = Native.scratch();
    int n = params.size();
    Tensor[] all = new Tensor[3 * n];
    for (int i = 0; i < n; i++) {
      all[i] = params.get(i);
      all[n + i] = expAvg[i];
      all[2 * n + i] = expAvgSq[i];
    }
    long base = s.handles(all);
    Native.call(c -> (long) Native.ADAMW.invokeExact(base, base + 8L * n, base + 16L * n, (long) n, lr, beta1, beta2,
        eps, weightDecay, step + 1));
    step++;
  }

  private void ensureState() {
    if (expAvg.length > 0 && expAvg[0] != null) return;
    for (int i = 0; i < params.size(); i++) {
      Tensor p = params.get(i);
      expAvg[i] = TensorScope.detachFromScope(Tensor.zeros(p.dtype(), p.device(), p.shape()));
      expAvgSq[i] = TensorScope.detachFromScope(Tensor.zeros(p.dtype(), p.device(), p.shape()));
    }
  }

  /** exp_avg of parameter {@code i} (owned by the optimizer: do not close). */
  public Tensor expAvg(int i) {
    ensureState();
    return expAvg[i];
  }

  /** exp_avg_sq of parameter {@code i} (owned by the optimizer: do not close). */
  public Tensor expAvgSq(int i) {
    ensureState();
    return expAvgSq[i];
  }

  /** Restores state from a checkpoint: values are copied into the optimizer's own tensors. */
  public void loadState(long step, List<Tensor> expAvgs, List<Tensor> expAvgSqs) {
    if (expAvgs.size() != params.size() || expAvgSqs.size() != params.size())
      throw new IllegalArgumentException("state for " + expAvgs.size() + "/" + expAvgSqs.size() + " tensors, optimizer has "
          + params.size());
    ensureState();
    for (int i = 0; i < params.size(); i++) {
      expAvg[i].copyFrom(expAvgs.get(i));
      expAvgSq[i].copyFrom(expAvgSqs.get(i));
    }
    this.step = step;
  }

  public List<Tensor> params() {
    return new ArrayList<>(params);
  }

  @Override
  public void close() {
    for (int i = 0; i < expAvg.length; i++) {
      if (expAvg[i] != null) expAvg[i].close();
      if (expAvgSq[i] != null) expAvgSq[i].close();
      expAvg[i] = expAvgSq[i] = null;
    }
  }
}

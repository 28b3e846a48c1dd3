package org.sr4g.diffusion.lora;

import java.util.Arrays;
import org.sr4g.diffusion.models.LayerAdapter;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * A low-rank adapter on one linear or convolution layer (LoRA): the layer computes {@code W x + s · (α / r) · B (A x)}
 * with the down projection A ({@code lora_A} / {@code lora_down}: {@code [r, in]}, or {@code [r, in, k, k]} on a
 * k×k convolution, applied with the layer's stride and padding), the up projection B ({@code lora_B} /
 * {@code lora_up}: {@code [out, r]} or {@code [out, r, 1, 1]}), rank r (A's rows), α ({@code alpha}, = r when a file
 * gives none) and the user's scale s ({@code --lora FILE:SCALE}). The same product, {@link #delta()}, is what merging
 * adds to W. The tensors are the adapter's own (float32); a later trainer can hand in trainable ones.
 */
public final class LoraAdapter implements LayerAdapter, AutoCloseable {
  private final String module;
  private final Tensor down, up;
  private final double alpha, scale;

  /** Takes ownership of {@code down} and {@code up}. */
  public LoraAdapter(String module, Tensor down, Tensor up, double alpha, double scale) {
    if (down.dim() != 2 && down.dim() != 4) throw new IllegalArgumentException(module + ": down must be 2-D or 4-D");
    if (up.dim() != 2 && !(up.dim() == 4 && up.size(2) == 1 && up.size(3) == 1))
      throw new IllegalArgumentException(module + ": up must be [out, r] or [out, r, 1, 1]");
    if (up.size(1) != down.size(0)) throw new IllegalArgumentException(module + ": ranks of up and down differ");
    this.module = module;
    this.down = TensorScope.detachFromScope(down);
    this.up = TensorScope.detachFromScope(up);
    this.alpha = alpha;
    this.scale = scale;
  }

  public String module() {
    return module;
  }

  public int rank() {
    return (int) down.size(0);
  }

  public double alpha() {
    return alpha;
  }

  public double scale() {
    return scale;
  }

  /** s · α / r: what B·A is multiplied by. */
  public double factor() {
    return scale * alpha / rank();
  }

  public Tensor down() {
    return down;
  }

  public Tensor up() {
    return up;
  }

  /** Whether A is a k×k kernel with k > 1 (kohya's "conv" LoRA on 3×3 convolutions). */
  public boolean spatial() {
    return down.dim() == 4 && (down.size(2) > 1 || down.size(3) > 1);
  }

  /** [out, r]. */
  private Tensor up2d() {
    return up.reshape(up.size(0), up.size(1));
  }

  @Override
  public Tensor linear(Tensor x) {
    if (spatial()) throw new IllegalStateException(module + ": a " + Arrays.toString(down.shape()) + " LoRA on a linear layer");
    Tensor a = down.reshape(down.size(0), down.size(1));
    Tensor b = up2d();
    if (a.dtype() != x.dtype() || !a.device().equals(x.device())) {
      a = a.to(x.dtype(), x.device());
      b = b.to(x.dtype(), x.device());
    }
    return Nn.linear(Nn.linear(x, a, null), b, null).mul(factor());
  }

  @Override
  public Tensor conv(Tensor x, int stride, int padding) {
    Tensor a = down.dim() == 4 ? down : down.reshape(down.size(0), down.size(1), 1, 1);
    Tensor b = up.dim() == 4 ? up : up.reshape(up.size(0), up.size(1), 1, 1);
    if (a.dtype() != x.dtype() || !a.device().equals(x.device())) {
      a = a.to(x.dtype(), x.device());
      b = b.to(x.dtype(), x.device());
    }
    // A has the layer's kernel, stride and padding (PEFT's and kohya's lora_A / lora_down); B is 1×1.
    return Nn.conv2d(Nn.conv2d(x, a, null, stride, padding, 1), b, null, 1, 0, 1).mul(factor());
  }

  /**
   * s · α / r · B·A in the layer's weight shape ({@code [out, in]} or {@code [out, in, k, k]}), float32 on A's device:
   * what merging adds to the layer's weight.
   */
  public Tensor delta(long[] weightShape) {
    Tensor a = down.reshape(down.size(0), down.numel() / down.size(0));
    Tensor d = up2d().matmul(a).mul(factor());
    return d.reshape(weightShape);
  }

  @Override
  public void close() {
    down.close();
    up.close();
  }
}

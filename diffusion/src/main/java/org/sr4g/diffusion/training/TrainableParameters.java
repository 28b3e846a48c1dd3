package org.sr4g.diffusion.training;

import java.util.ArrayList;
import java.util.List;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.lora.TrainableLora;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;

/**
 * What a run trains: the UNet's parameters that AdamW updates, the EMA averages and the checkpoints store (the whole
 * UNet, or with {@code --lora-rank} its LoRA adapters), and with {@code --train-text-encoder} the text encoder's (or
 * its adapters'). Everything else of the model is frozen here ({@code requires_grad} off), so no gradient is ever
 * recorded for it. The one place that decides what is trained.
 */
public final class TrainableParameters {
  private final Params unet;
  private final Params textEncoder;
  private final TrainableLora lora;

  private TrainableParameters(Params unet, Params textEncoder, TrainableLora lora) {
    this.unet = unet;
    this.textEncoder = textEncoder;
    this.lora = lora;
  }

  /** The UNet (and the text encoder when {@code trainTextEncoder}) of {@code m}; the VAE (and the encoder) frozen. */
  public static TrainableParameters of(DiffusersModel m, boolean trainTextEncoder) {
    for (Tensor t : m.vae().params().list()) t.requiresGrad(false);
    if (!trainTextEncoder) for (Tensor t : m.textEncoder().params().list()) t.requiresGrad(false);
    return new TrainableParameters(m.unet().params(), trainTextEncoder ? m.textEncoder().params() : null, null);
  }

  /**
   * {@code lora}'s adapters (attached to {@code m}'s layers when it was loaded), the text encoder's when it has some;
   * every base weight of {@code m} frozen. The adapters' names are their keys in a diffusers LoRA file.
   */
  public static TrainableParameters lora(DiffusersModel m, TrainableLora lora) {
    for (Params p : List.of(m.vae().params(), m.textEncoder().params(), m.unet().params()))
      for (Tensor t : p.list()) t.requiresGrad(false);
    return new TrainableParameters(lora.params(Part.UNET),
        lora.trainsTextEncoder() ? lora.params(Part.TEXT_ENCODER) : null, lora);
  }

  /** The LoRA adapters when the run trains those, else null (the whole UNet). */
  public TrainableLora lora() {
    return lora;
  }

  /** The trained UNet parameters (diffusers keys): the optimizer's, the EMA's, the checkpoint's and OUT/model's. */
  public Params unet() {
    return unet;
  }

  /** The trained text encoder's parameters, or null when it is frozen. */
  public Params textEncoder() {
    return textEncoder;
  }

  /** Every trained tensor: what is zeroed, all-reduced, unscaled and clipped together. */
  public List<Tensor> all() {
    List<Tensor> all = new ArrayList<>(unet.list());
    if (textEncoder != null) all.addAll(textEncoder.list());
    return all;
  }
}

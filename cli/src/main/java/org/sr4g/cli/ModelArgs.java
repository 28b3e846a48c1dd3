package org.sr4g.cli;

import java.io.PrintWriter;
import java.util.List;
import org.sr4g.diffusion.ModelSource;
import org.sr4g.diffusion.ModelSources;
import org.sr4g.diffusion.lora.LoraSource;
import org.sr4g.diffusion.singlefile.SingleFileSource;

/** Opens what {@code --model} (and {@code --lora}) name, telling the user what was found. */
final class ModelArgs {
  private ModelArgs() {}

  /** The model {@code spec} with every {@code loras} value ({@code FILE[:SCALE]}) applied; notes go to {@code out}. */
  static ModelSource open(String spec, String variant, SingleFileOptions single, List<String> loras, PrintWriter out) {
    ModelSource s = ModelSources.open(spec, variant, single == null ? null : single.toOptions());
    try {
      if (s instanceof SingleFileSource f)
        for (String note : f.notes()) out.println("model " + spec + ": " + note);
      if (loras != null && !loras.isEmpty()) {
        LoraSource l = LoraSource.open(s, loras.stream().map(LoraSource.Spec::parse).toList());
        for (int i = 0; i < l.files().size(); i++)
          out.println("lora " + l.files().get(i).path() + ": " + l.files().get(i).entries().size() + " layer(s), "
              + l.files().get(i).layout().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " layout, scale "
              + LoraSource.Spec.parse(loras.get(i)).scale());
        s = l;
      }
      out.flush();
      return s;
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
  }
}

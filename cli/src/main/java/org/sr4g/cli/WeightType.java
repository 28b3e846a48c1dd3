package org.sr4g.cli;

import org.sr4g.UserInputException;
import org.sr4g.diffusion.Precision;
import org.sr4g.torch.DType;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The value of every {@code --dtype}-like option: f32, f16 or bf16. Typed, so picocli lists the values in the help;
 * {@link Converter} still takes the aliases {@link Precision#parse} knows (fp16, float32, bfloat16, …, any case) and
 * keeps its message for anything else.
 */
enum WeightType {
  f32(DType.F32),
  f16(DType.F16),
  bf16(DType.BF16);

  private final DType dtype;

  WeightType(DType dtype) {
    this.dtype = dtype;
  }

  DType dtype() {
    return dtype;
  }

  /** The safetensors name of the type ({@code F32}, {@code F16}, {@code BF16}). */
  String stored() {
    return name().toUpperCase(java.util.Locale.ROOT);
  }

  static final class Converter implements ITypeConverter<WeightType> {
    @Override
    public WeightType convert(String value) {
      try {
        return valueOf(Precision.name(Precision.parse(value)));
      } catch (UserInputException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}

package org.sr4g.cli;

import org.sr4g.UserInputException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A picocli converter over a library's own parser (an enum's {@code parse}, which knows the option's spelled names
 * such as {@code v_prediction} or {@code per-pair}): the parser's message becomes picocli's "Invalid value" error.
 */
abstract class ParsingConverter<T> implements ITypeConverter<T> {
  /** The value named {@code s}; a {@link UserInputException} for anything else. */
  abstract T parse(String s);

  @Override
  public final T convert(String s) {
    try {
      return parse(s);
    } catch (UserInputException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}

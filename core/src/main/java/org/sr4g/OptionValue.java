package org.sr4g;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * An enum whose constants are spelled, on the command line and in the files sr4g writes, as their name in lower case
 * ({@code V_PREDICTION} → {@code v_prediction}), or with dashes for underscores where the option says so
 * ({@link #dashed}). One parser and one error message serve every such option.
 */
public interface OptionValue {
  /** The constant's name (enums have it). */
  String name();

  /** Whether the spelling joins words with {@code -} rather than {@code _}; false unless an enum overrides it. */
  default boolean dashed() {
    return false;
  }

  /** How the value is spelled: {@code cosine}, {@code v_prediction}, {@code per-pair}. */
  default String spelling() {
    String s = name().toLowerCase(Locale.ROOT);
    return dashed() ? s.replace('_', '-') : s;
  }

  /**
   * The constant of {@code type} spelled {@code value}; anything else is a {@link UserInputException} naming
   * {@code option} and every spelling: {@code --lr-scheduler must be constant, constant_with_warmup or cosine, got 'x'}.
   */
  static <E extends Enum<E> & OptionValue> E parse(Class<E> type, String option, String value) {
    E[] all = type.getEnumConstants();
    for (E e : all) if (e.spelling().equals(value)) return e;
    List<String> names = Arrays.stream(all).map(OptionValue::spelling).toList();
    String list = String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    throw new UserInputException(option + " must be " + list + ", got '" + value + "'");
  }
}

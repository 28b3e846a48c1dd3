package org.sr4g;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class OptionValueTest {
  enum Schedule implements OptionValue { CONSTANT, CONSTANT_WITH_WARMUP, COSINE }

  enum Sampling implements OptionValue {
    PER_PAIR,
    PER_IMAGE;

    @Override
    public boolean dashed() {
      return true;
    }
  }

  @Test
  void spellingsAreTheLowerCaseNamesWithUnderscoresOrDashes() {
    assertEquals("constant_with_warmup", Schedule.CONSTANT_WITH_WARMUP.spelling());
    assertEquals("per-image", Sampling.PER_IMAGE.spelling());
    assertSame(Schedule.COSINE, OptionValue.parse(Schedule.class, "--lr-scheduler", "cosine"));
    assertSame(Sampling.PER_PAIR, OptionValue.parse(Sampling.class, "--caption-sampling", "per-pair"));
  }

  @Test
  void anotherSpellingIsOneLineNamingTheOptionAndEveryValue() {
    UserInputException e = assertThrows(UserInputException.class,
        () -> OptionValue.parse(Schedule.class, "--lr-scheduler", "COSINE"));
    assertEquals("--lr-scheduler must be constant, constant_with_warmup or cosine, got 'COSINE'", e.getMessage());
    e = assertThrows(UserInputException.class, () -> OptionValue.parse(Sampling.class, "--caption-sampling", "per_pair"));
    assertEquals("--caption-sampling must be per-pair or per-image, got 'per_pair'", e.getMessage());
  }
}

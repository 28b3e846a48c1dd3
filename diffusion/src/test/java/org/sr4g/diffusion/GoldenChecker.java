package org.sr4g.diffusion;

/**
 * Checks one kind of golden fixture against sr4g's implementation. Implementations live in the test package
 * {@code org.sr4g.diffusion.golden}, are public with a public no-argument constructor, and are found there by
 * {@link GoldenCheckers} without any registration list (so adding a checker touches no shared file).
 */
public interface GoldenChecker {
  /** The fixture kind handled: see {@link GoldenFixture#kind()} ({@code tokenizer}, {@code schedulers}, {@code unet}...). */
  String kind();

  /**
   * Computes the fixture's outputs and compares them ({@link GoldenFixture#checkClose}/{@link GoldenFixture#checkExact}
   * or the asserting variants). The harness calls {@link GoldenFixture#verify()} afterwards.
   */
  void check(GoldenFixture fixture) throws Exception;
}

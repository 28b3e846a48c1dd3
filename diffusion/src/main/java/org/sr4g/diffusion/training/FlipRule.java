package org.sr4g.diffusion.training;

/**
 * A horizontal flip mirrors left and right and nothing else: "to the left of" and "to the right of" (and the
 * {@code relation} names "left of" / "right of") swap; every other SR4G relation (above, below, topological and
 * scale relations) holds unchanged in the mirrored image. Flipping without this rewrite would teach the model the
 * opposite of the caption half the time, which is why {@code --random-flip} always applies it.
 */
public final class FlipRule {
  private FlipRule() {}

  public record Flipped(String caption, String relation) {}

  private static final String LEFT = "to the left of";
  private static final String RIGHT = "to the right of";

  public static Flipped flip(String caption, String relation) {
    // Swap through a placeholder so a caption holding both phrases swaps both, not one twice.
    String marker = "\u0000";
    String c = caption.replace(LEFT, marker).replace(RIGHT, LEFT).replace(marker, RIGHT);
    String r = switch (relation) {
      case "left of" -> "right of";
      case "right of" -> "left of";
      default -> relation;
    };
    return new Flipped(c, r);
  }
}

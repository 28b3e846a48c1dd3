package org.sr4g.relations;

/**
 * The three groups the rules are evaluated in, which is also what {@code --emit one} draws from first. They differ from
 * the report {@link Family}: surrounding and inside are decided together with the four directions (at most one
 * position relation holds), while overlapping/separated form their own group (exactly one holds).
 */
public enum RuleGroup {
  /** At most one of: surrounding, inside, left of, right of, above, below. */
  POSITION,
  /** Exactly one of: overlapping, separated. */
  OVERLAP,
  /** Zero to three of the six strict comparisons. */
  SCALE;

  static final RuleGroup[] VALUES = values();
}

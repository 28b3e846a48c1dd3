package org.sr4g.relations;

/** The three families relations are reported in (VISOR's four relations are the projective family). */
public enum Family {
  PROJECTIVE("projective"),
  TOPOLOGICAL("topological"),
  SCALE("scale");

  private final String label;

  Family(String label) {
    this.label = label;
  }

  /** The lower-case name written to JSON and reports. */
  public String label() {
    return label;
  }
}

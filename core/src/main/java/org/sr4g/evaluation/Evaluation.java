package org.sr4g.evaluation;

import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sr4g.UserInputException;
import org.sr4g.relations.Family;
import org.sr4g.relations.Relation;
import com.fasterxml.jackson.databind.JsonNode;

/** Everything {@code sr4g eval} computes for one detection file: overall, breakdowns, bias, frequency correlation. */
public final class Evaluation {
  public final PromptSet prompts;
  public final Detections detections;
  public final PromptTally tally;
  public final VisorScores overall;
  public final Map<Family, VisorScores> families = new EnumMap<>(Family.class);
  public final Map<Relation, VisorScores> relations = new EnumMap<>(Relation.class);
  /** "seen" (neither object unseen) and "unseen" (at least one); empty when no unseen list was given. */
  public final Map<String, VisorScores> objects = new LinkedHashMap<>();
  public final List<OppositeBias.Pair> bias;
  /** Null unless triplet counts were given. */
  public final Map<String, FrequencyCorrelation.Result> frequency;
  public final List<FrequencyCorrelation.Point> frequencyPoints;
  public final int frequencyExcluded;

  public Evaluation(PromptSet prompts, Detections detections, boolean haveUnseen, TripletCounts triplets,
      int bootstrap, long seed) {
    this.prompts = prompts;
    this.detections = detections;
    this.tally = PromptTally.of(prompts, detections.outcomes());
    this.overall = VisorScores.of(tally, i -> true);
    for (Family f : Family.values()) {
      VisorScores s = VisorScores.of(tally, i -> prompts.get(i).scored() && prompts.get(i).relation().family() == f);
      if (s.prompts() > 0) families.put(f, s);
    }
    for (Relation r : Relation.all()) {
      VisorScores s = VisorScores.of(tally, i -> prompts.get(i).relation() == r);
      if (s.prompts() > 0) relations.put(r, s);
    }
    if (haveUnseen) {
      objects.put("seen", VisorScores.of(tally, i -> !prompts.get(i).unseen()));
      objects.put("unseen", VisorScores.of(tally, i -> prompts.get(i).unseen()));
    }
    this.bias = OppositeBias.pairs(relations);
    if (triplets != null) {
      int[] ex = new int[Relation.COUNT + 1];
      frequencyPoints = FrequencyCorrelation.points(prompts, tally, triplets, ex);
      frequencyExcluded = ex[Relation.COUNT];
      frequency = FrequencyCorrelation.all(frequencyPoints, ex, bootstrap, seed);
    } else {
      frequencyPoints = List.of();
      frequencyExcluded = 0;
      frequency = null;
    }
  }

  /** Reads {@code "unseen_categories": [...]} from the dataset's {@code manifest.json}. */
  public static Set<String> unseenCategories(Path manifest) {
    JsonNode root;
    try {
      root = PromptReader.JSON.readTree(manifest.toFile());
    } catch (IOException e) {
      throw new UserInputException(manifest + ": cannot read manifest: " + e.getMessage(), e);
    }
    JsonNode u = root == null ? null : root.get("unseen_categories");
    if (u == null || !u.isArray()) {
      throw new UserInputException(manifest + ": missing array field 'unseen_categories'");
    }
    Set<String> out = new HashSet<>();
    for (int i = 0; i < u.size(); i++) {
      if (!u.get(i).isTextual()) {
        throw new UserInputException(manifest + ": unseen_categories[" + i + "] must be a string, got " + u.get(i));
      }
      out.add(PromptReader.norm(u.get(i).asText()));
    }
    return out;
  }
}

package org.sr4g.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import org.sr4g.evaluation.DetectionReaders;
import org.sr4g.evaluation.Detections;
import org.sr4g.evaluation.Evaluation;
import org.sr4g.evaluation.OutcomeJudge;
import org.sr4g.evaluation.PromptReader;
import org.sr4g.evaluation.PromptSet;

/**
 * A detections file in the format its first bytes say (VISOR, JSONL, COCO results with a fuzzed image list), scored
 * against two fixed prompts: the readers and the evaluation over what they accept.
 */
class DetectionsFuzzTest {
  private static final String PROMPTS = """
      {"unique_id":0,"num_objects":2,"obj_1_attributes":["cat"],"obj_2_attributes":["dog"],"rel_type":"to the left of","text":"a cat to the left of a dog","relation":"left of"}
      {"unique_id":1,"num_objects":2,"obj_1_attributes":["dog"],"obj_2_attributes":["cat"],"rel_type":"above","text":"a dog above a cat","relation":"above"}
      """;

  @FuzzTest
  void fuzz(FuzzedDataProvider in) {
    Verdict.userErrorsOnly(() -> {
      PromptSet ps = PromptReader.read(Scratch.file("p.jsonl", PROMPTS.getBytes(StandardCharsets.UTF_8)), Set.of());
      int format = in.consumeInt(0, 3);
      int perPrompt = in.consumeInt(0, 4);
      Path images = Scratch.file("images.json", in.consumeString(2000).getBytes(StandardCharsets.UTF_8));
      Path dets = Scratch.file("dets.json", in.consumeRemainingAsBytes());
      OutcomeJudge judge = new OutcomeJudge(0.1, format == 3);
      String fmt = format == 0 ? DetectionReaders.detectFormat(dets) : null;
      Detections d = switch (fmt != null ? fmt : format == 1 ? DetectionReaders.VISOR : format == 2
          ? DetectionReaders.JSONL : DetectionReaders.COCO) {
        case DetectionReaders.VISOR -> DetectionReaders.readVisor(dets, ps, perPrompt);
        case DetectionReaders.JSONL -> DetectionReaders.readJsonl(dets, ps, judge, perPrompt);
        default -> DetectionReaders.readCoco(dets, images, ps, judge, perPrompt);
      };
      new Evaluation(ps, d, false, null, 10, 1);
    });
  }
}

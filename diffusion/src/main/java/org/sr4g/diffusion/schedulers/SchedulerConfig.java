package org.sr4g.diffusion.schedulers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import org.sr4g.UserInputException;

/**
 * The fields of a diffusers {@code scheduler_config.json} that the schedulers here read, with diffusers' defaults for
 * absent keys. Options this package does not implement (thresholding, sample clipping, Karras sigmas, zero-SNR
 * rescaling, learned variance...) are rejected when set, so a config is never silently run with different maths.
 *
 * @param source where the config came from, for error messages
 */
public record SchedulerConfig(
    String source,
    String className,
    int numTrainTimesteps,
    double betaStart,
    double betaEnd,
    String betaSchedule,
    double[] trainedBetas,
    String predictionType,
    int stepsOffset,
    boolean setAlphaToOne,
    String timestepSpacing,
    String varianceType,
    boolean skipPrkSteps,
    String interpolationType,
    String finalSigmasType) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public static SchedulerConfig read(Path file) {
    try {
      return fromJson(JSON.readTree(file.toFile()), file.toString());
    } catch (JsonProcessingException e) {
      throw new UserInputException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Parses a config dict ({@code _class_name} is optional when the caller knows the class). */
  public static SchedulerConfig fromJson(JsonNode n, String source) {
    if (n == null || !n.isObject()) throw new UserInputException(source + ": scheduler config must be a JSON object");
    String cls = text(n, "_class_name", "", source);
    // Options with no implementation here: refuse rather than silently ignore.
    rejectTrue(n, "clip_sample", source);
    rejectTrue(n, "thresholding", source);
    rejectTrue(n, "rescale_betas_zero_snr", source);
    rejectTrue(n, "use_karras_sigmas", source);
    rejectTrue(n, "use_exponential_sigmas", source);
    rejectTrue(n, "use_beta_sigmas", source);
    String timestepType = text(n, "timestep_type", "discrete", source);
    if (!timestepType.equals("discrete"))
      throw new UserInputException(source + ": timestep_type '" + timestepType + "' is not supported (only discrete)");
    double[] trained = null;
    JsonNode tb = n.get("trained_betas");
    if (tb != null && !tb.isNull()) {
      if (!tb.isArray()) throw new UserInputException(source + ": trained_betas must be an array of numbers or null");
      trained = new double[tb.size()];
      for (int i = 0; i < trained.length; i++) {
        if (!tb.get(i).isNumber()) throw new UserInputException(source + ": trained_betas[" + i + "] is not a number");
        trained[i] = tb.get(i).asDouble();
      }
    }
    SchedulerConfig c = new SchedulerConfig(source, cls,
        integer(n, "num_train_timesteps", 1000, source),
        number(n, "beta_start", 0.0001, source),
        number(n, "beta_end", 0.02, source),
        text(n, "beta_schedule", "linear", source),
        trained,
        text(n, "prediction_type", "epsilon", source),
        integer(n, "steps_offset", 0, source),
        bool(n, "set_alpha_to_one", true, source),
        text(n, "timestep_spacing", cls.equals("EulerDiscreteScheduler") ? "linspace" : "leading", source),
        text(n, "variance_type", "fixed_small", source),
        bool(n, "skip_prk_steps", false, source),
        text(n, "interpolation_type", "linear", source),
        text(n, "final_sigmas_type", "zero", source));
    c.validate();
    return c;
  }

  private void validate() {
    if (numTrainTimesteps < 2) throw bad("num_train_timesteps", numTrainTimesteps + " (need at least 2)");
    if (!predictionType.equals("epsilon") && !predictionType.equals("v_prediction") && !predictionType.equals("sample"))
      throw bad("prediction_type", "'" + predictionType + "' (supported: epsilon, v_prediction, sample)");
    if (!timestepSpacing.equals("leading") && !timestepSpacing.equals("linspace") && !timestepSpacing.equals("trailing"))
      throw bad("timestep_spacing", "'" + timestepSpacing + "' (supported: leading, linspace, trailing)");
    if (trainedBetas == null && !betaSchedule.equals("linear") && !betaSchedule.equals("scaled_linear")
        && !betaSchedule.equals("squaredcos_cap_v2"))
      throw bad("beta_schedule", "'" + betaSchedule + "' (supported: linear, scaled_linear, squaredcos_cap_v2)");
    if (trainedBetas != null && trainedBetas.length != numTrainTimesteps)
      throw bad("trained_betas", trainedBetas.length + " values for num_train_timesteps " + numTrainTimesteps);
    if (!varianceType.equals("fixed_small"))
      throw bad("variance_type", "'" + varianceType + "' (supported: fixed_small)");
    if (!interpolationType.equals("linear")) throw bad("interpolation_type", "'" + interpolationType + "' (supported: linear)");
    if (!finalSigmasType.equals("zero") && !finalSigmasType.equals("sigma_min"))
      throw bad("final_sigmas_type", "'" + finalSigmasType + "' (supported: zero, sigma_min)");
  }

  private UserInputException bad(String key, String what) {
    return new UserInputException(source + ": unsupported " + key + " " + what);
  }

  private static void rejectTrue(JsonNode n, String key, String source) {
    if (bool(n, key, false, source))
      throw new UserInputException(source + ": " + key + " = true is not supported by sr4g's schedulers");
  }

  private static JsonNode field(JsonNode n, String key) {
    JsonNode v = n.get(key);
    return v == null || v.isNull() ? null : v;
  }

  private static String text(JsonNode n, String key, String dflt, String source) {
    JsonNode v = field(n, key);
    if (v == null) return dflt;
    if (!v.isTextual()) throw new UserInputException(source + ": " + key + " must be a string, found " + v);
    return v.textValue();
  }

  private static double number(JsonNode n, String key, double dflt, String source) {
    JsonNode v = field(n, key);
    if (v == null) return dflt;
    if (!v.isNumber()) throw new UserInputException(source + ": " + key + " must be a number, found " + v);
    return v.doubleValue();
  }

  private static int integer(JsonNode n, String key, int dflt, String source) {
    JsonNode v = field(n, key);
    if (v == null) return dflt;
    if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new UserInputException(source + ": " + key + " must be an integer, found " + v);
    return v.intValue();
  }

  private static boolean bool(JsonNode n, String key, boolean dflt, String source) {
    JsonNode v = field(n, key);
    if (v == null) return dflt;
    if (!v.isBoolean()) throw new UserInputException(source + ": " + key + " must be true or false, found " + v);
    return v.booleanValue();
  }
}

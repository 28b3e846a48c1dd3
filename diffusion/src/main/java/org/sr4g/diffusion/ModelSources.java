package org.sr4g.diffusion;

import java.nio.file.Path;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.singlefile.SingleFileSource;
import org.sr4g.hub.HfCache;
import org.sr4g.hub.ModelLocator;

/**
 * What every {@code --model} option accepts, in one place: a diffusers folder, a Hugging Face id resolved offline
 * from the local hub cache ({@code org/name[@revision][/path/in/repo]}, see {@link ModelLocator}), or a single-file
 * SD 1.x/2.x checkpoint ({@link SingleFileSource}), converted on load.
 *
 * <p>The hub cache is {@link HfCache#fromEnvironment()}, unless the system property {@value #CACHE_PROPERTY} names
 * another root (tests).
 */
public final class ModelSources {
  /** System property overriding the hub cache root (the CLI tests' hook; users set HF_HUB_CACHE or HF_HOME). */
  public static final String CACHE_PROPERTY = "sr4g.hf.hub.cache";

  private ModelSources() {}

  /** The hub cache this process reads. */
  public static HfCache cache() {
    String p = System.getProperty(CACHE_PROPERTY);
    return p != null && !p.isBlank() ? HfCache.at(Path.of(p)) : HfCache.fromEnvironment();
  }

  /** Where {@code spec} leads (local path or cached snapshot), without opening anything. */
  public static ModelLocator.Location locate(String spec) {
    return new ModelLocator(cache()).find(spec);
  }

  /**
   * Opens {@code spec} as a model: a folder (with weights {@code variant}, or null) or a single-file checkpoint read
   * with {@code singleFile}'s options (its tokenizer lookup uses this process's hub cache).
   */
  public static ModelSource open(String spec, String variant, SingleFileSource.Options singleFile) {
    ModelLocator.Location loc = locate(spec);
    if (!loc.isFile()) return FolderSource.open(ModelFolder.open(loc.path(), variant), spec);
    if (variant != null)
      throw new UserInputException("--variant " + variant + ": only for model folders, not the single file " + spec);
    SingleFileSource.Options o = singleFile == null ? SingleFileSource.Options.defaults() : singleFile;
    return SingleFileSource.open(loc.path(), new SingleFileSource.Options(o.predictionType(), o.extractEma(),
        o.tokenizer(), o.configs(), cache()));
  }

  /**
   * The model folder {@code spec} names (a folder or a cached hub id), for commands that work on a folder's files
   * ({@code train}, {@code cache}); a single file is a user error saying how to convert it.
   */
  public static Path folder(String spec, String option) {
    ModelLocator.Location loc = locate(spec);
    if (loc.isFile())
      throw new UserInputException(option + " " + spec + ": a single-file checkpoint; this command needs a diffusers"
          + " folder: convert it once with `sr4g convert --model " + spec + " --out DIR` and pass DIR");
    return loc.path();
  }
}

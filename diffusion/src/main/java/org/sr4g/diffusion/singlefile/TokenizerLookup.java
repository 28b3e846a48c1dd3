package org.sr4g.diffusion.singlefile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.hub.HfCache;

/**
 * Finds a CLIP tokenizer ({@code vocab.json} + {@code merges.txt}) for a single-file checkpoint, which carries none
 * (diffusers' {@code from_single_file} downloads {@code openai/clip-vit-large-patch14}'s for SD 1.x and
 * {@code stabilityai/stable-diffusion-2}'s for SD 2.x; both are the same CLIP BPE vocabulary, only the pad token
 * differs, and the caller sets that). Offline, in order: the folder given by the user; {@code tokenizer/} beside the
 * file, or the file's own folder; the Hugging Face cache (repositories below, root or {@code tokenizer/}). A miss is
 * one line listing every place tried.
 */
final class TokenizerLookup {
  private TokenizerLookup() {}

  /** Repositories whose snapshot holds CLIP's tokenizer, SD 1.x-flavoured first. */
  static final List<String> SD1_REPOS = List.of("openai/clip-vit-large-patch14", "stable-diffusion-v1-5/stable-diffusion-v1-5",
      "runwayml/stable-diffusion-v1-5", "CompVis/stable-diffusion-v1-4");
  static final List<String> SD2_REPOS = List.of("stabilityai/stable-diffusion-2-1", "stabilityai/stable-diffusion-2",
      "stabilityai/stable-diffusion-2-1-base", "stabilityai/stable-diffusion-2-base");

  record Found(Path dir) {}

  static Found find(Path checkpoint, Path given, HfCache cache, boolean sd2) {
    if (given != null) {
      Path d = Files.isDirectory(given.resolve("tokenizer")) && !has(given) ? given.resolve("tokenizer") : given;
      if (!has(d)) throw new UserInputException("--tokenizer " + given + ": no vocab.json and merges.txt there");
      return new Found(d);
    }
    List<String> tried = new ArrayList<>();
    Path parent = checkpoint.toAbsolutePath().getParent();
    for (Path d : new Path[] {parent.resolve("tokenizer"), parent}) {
      if (has(d)) return new Found(d);
      tried.add(d.toString());
    }
    List<String> repos = new ArrayList<>(sd2 ? SD2_REPOS : SD1_REPOS);
    repos.addAll(sd2 ? SD1_REPOS : SD2_REPOS); // the vocabulary is the same; the caller sets the family's pad token
    for (String repo : repos) {
      try {
        Path snap = cache.snapshot(repo, null).dir();
        for (Path d : new Path[] {snap, snap.resolve("tokenizer")}) if (has(d)) return new Found(d);
      } catch (UserInputException notCached) {
        // try the next one
      }
    }
    tried.add("the Hugging Face cache " + cache.root() + " (" + String.join(", ", repos.subList(0, 2)) + ", …)");
    throw new UserInputException(checkpoint + ": a single-file checkpoint carries no tokenizer, and none was found (looked in "
        + String.join(", ", tried) + "); put CLIP's vocab.json and merges.txt in " + parent.resolve("tokenizer")
        + " (or `huggingface-cli download openai/clip-vit-large-patch14 vocab.json merges.txt` puts them in the cache,"
        + " where sr4g looks) or pass --tokenizer DIR");
  }

  private static boolean has(Path d) {
    return Files.isRegularFile(d.resolve("vocab.json")) && Files.isRegularFile(d.resolve("merges.txt"));
  }
}

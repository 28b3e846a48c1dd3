package org.sr4g.hub;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sr4g.UserInputException;

/**
 * Turns what a user writes after {@code --model} (or {@code --detector}) into a local path, offline:
 *
 * <ol>
 *   <li>an existing file or folder is used as it is (a diffusers folder, a single-file checkpoint);
 *   <li>otherwise a Hugging Face id {@code [org/]name[@revision][/path/in/repo]} is looked up in the local hub cache
 *       ({@link HfCache}): the snapshot folder of that revision ({@code main} by default), or the file or folder at
 *       {@code path/in/repo} inside it (e.g. {@code stabilityai/stable-diffusion-2-1/v2-1_768-ema-pruned.safetensors});
 *   <li>anything else is one user error naming what was tried.
 * </ol>
 *
 * <p>A local path that is itself a cache snapshot ({@code …/models--org--name/snapshots/<commit>}) gets the same link
 * check as a cache id. Repository ids follow huggingface_hub's rules (letters, digits, {@code -_.}, at most 96
 * characters per part, no {@code --} or {@code ..}); a revision given here has no {@code /} (use the commit hash for
 * {@code refs/pr/N}).
 */
public final class ModelLocator {
  private static final String PART = "[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?";
  private static final Pattern HF_ID = Pattern.compile(
      "(?<repo>(?:" + PART + "/)?" + PART + ")(?:@(?<rev>[A-Za-z0-9._-]+))?(?:/(?<path>[^@]+))?");

  private final HfCache cache;

  public ModelLocator(HfCache cache) {
    this.cache = cache;
  }

  /** Resolves with the cache of this process's environment. */
  public static Location locate(String spec) {
    return new ModelLocator(HfCache.fromEnvironment()).find(spec);
  }

  public HfCache cache() {
    return cache;
  }

  /** See the class comment; {@code spec} is the option's value as typed. */
  public Location find(String spec) {
    if (spec == null || spec.isBlank()) throw new UserInputException("empty model name");
    Path local = null;
    try {
      local = Path.of(spec);
    } catch (InvalidPathException e) {
      // not a path on this system: may still be a hub id
    }
    if (local != null && Files.exists(local)) {
      checkIfSnapshot(local);
      return new Location(spec, local, Files.isRegularFile(local), null);
    }
    HfId id = parse(spec);
    if (id == null)
      throw new UserInputException(spec + ": no such file or folder, and not a Hugging Face model id (org/name)");
    HfCache.Snapshot snap;
    try {
      snap = cache.snapshot(id.repo(), id.revision());
    } catch (UserInputException e) {
      // One line that says both places were tried.
      throw new UserInputException(spec + ": no such file or folder here; as a Hugging Face id: " + e.getMessage(), e);
    }
    Path p = snap.dir();
    if (id.path() != null) {
      p = inside(snap.dir(), id.path(), spec);
      if (!Files.exists(p))
        throw new UserInputException(spec + ": " + id.path() + " is not in the cached snapshot " + snap.dir());
    }
    return new Location(spec, p, Files.isRegularFile(p), snap);
  }

  /** {@code [org/]name[@rev][/path]}, or null when {@code spec} cannot be a hub id. */
  static HfId parse(String spec) {
    Matcher m = HF_ID.matcher(spec);
    if (!m.matches()) return null;
    String repo = m.group("repo");
    String path = m.group("path");
    // With no revision the first two segments are org/name and the rest a path; the regex may have split differently.
    if (m.group("rev") == null && path != null && !repo.contains("/")) {
      int slash = path.indexOf('/');
      repo = repo + "/" + (slash < 0 ? path : path.substring(0, slash));
      path = slash < 0 ? null : path.substring(slash + 1);
      if (!repo.matches("(?:" + PART + "/)?" + PART)) return null;
    }
    if (repo.contains("--") || repo.contains("..") || repo.endsWith(".git")) return null;
    return new HfId(repo, m.group("rev"), path);
  }

  /** {@code rel} inside {@code dir}: relative, no {@code ..}, no empty segment. */
  private static Path inside(Path dir, String rel, String spec) {
    for (String seg : rel.split("/", -1))
      if (seg.isEmpty() || seg.equals(".") || seg.equals(".."))
        throw new UserInputException(spec + ": '" + rel + "' is not a path inside the repository");
    Path p = dir.resolve(rel).normalize();
    if (!p.startsWith(dir)) throw new UserInputException(spec + ": '" + rel + "' leaves the repository");
    return p;
  }

  /** A local path inside {@code …/models--x--y/snapshots/<commit>} is checked like a cache id. */
  private static void checkIfSnapshot(Path local) {
    Path abs = local.toAbsolutePath().normalize();
    for (Path p = abs; p != null && p.getParent() != null && p.getParent().getParent() != null; p = p.getParent()) {
      Path snapshots = p.getParent();
      Path repo = snapshots.getParent();
      if (snapshots.getFileName().toString().equals("snapshots") && repo.getFileName() != null
          && repo.getFileName().toString().startsWith("models--")) {
        HfCache.checkLinks(repo, p);
        return;
      }
    }
  }

  record HfId(String repo, String revision, String path) {}

  /**
   * Where a model name led: the local {@code path}, whether it is a single file, and the cache snapshot it came from
   * (null for a plain local path).
   */
  public record Location(String spec, Path path, boolean isFile, HfCache.Snapshot snapshot) {
    /** The folder, or a user error naming {@code option} when the name led to a single file. */
    public Path requireFolder(String option) {
      if (isFile)
        throw new UserInputException(option + " " + spec + ": is a single file (" + path + "); a model folder is needed here");
      return path;
    }

    /** For messages: the name and, for a cache id, the commit it resolved to. */
    public String describe() {
      return snapshot == null ? path.toString()
          : spec + " (cached snapshot " + snapshot.commit().substring(0, 12) + ", " + path + ")";
    }
  }
}

package org.sr4g.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.sr4g.UserInputException;

/**
 * The local Hugging Face hub cache, read offline exactly as huggingface_hub lays it out:
 * {@code <root>/models--<org>--<name>/refs/<branch>} holds a commit hash, {@code snapshots/<commit>/} holds the
 * repository's files, each normally a symbolic link to {@code ../../blobs/<hash>} (a plain file on systems without
 * symlinks). The root is {@code $HF_HUB_CACHE}, else the legacy {@code $HUGGINGFACE_HUB_CACHE}, else
 * {@code $HF_HOME/hub}, else {@code $XDG_CACHE_HOME/huggingface/hub}, else {@code ~/.cache/huggingface/hub}
 * (huggingface_hub's {@code constants.py}). Nothing is downloaded and nothing in the cache is written.
 *
 * <p>A snapshot is checked before use: every symbolic link in it must lead to a file inside the same repository's
 * {@code blobs/} folder (after resolving every link on the way), and no folder in it may be a link; anything else,
 * e.g. a link to {@code /etc} or into another repository, is refused with the link's name.
 */
public final class HfCache {
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
  private static final Pattern REF_SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");
  /** More entries than any model repository has; bounds the walk of a hostile tree. */
  private static final int MAX_SNAPSHOT_ENTRIES = 100_000;

  private final Path root;
  private final String rootSource;

  private HfCache(Path root, String rootSource) {
    this.root = root;
    this.rootSource = rootSource;
  }

  /** The cache this process's environment points to. */
  public static HfCache fromEnvironment() {
    return of(System.getenv(), Path.of(System.getProperty("user.home")));
  }

  /** The cache {@code env} and {@code home} point to (huggingface_hub's precedence). */
  public static HfCache of(Map<String, String> env, Path home) {
    String v;
    if ((v = nonEmpty(env, "HF_HUB_CACHE")) != null) return new HfCache(expand(v, home), "$HF_HUB_CACHE");
    if ((v = nonEmpty(env, "HUGGINGFACE_HUB_CACHE")) != null)
      return new HfCache(expand(v, home), "$HUGGINGFACE_HUB_CACHE");
    if ((v = nonEmpty(env, "HF_HOME")) != null) return new HfCache(expand(v, home).resolve("hub"), "$HF_HOME/hub");
    if ((v = nonEmpty(env, "XDG_CACHE_HOME")) != null)
      return new HfCache(expand(v, home).resolve("huggingface/hub"), "$XDG_CACHE_HOME/huggingface/hub");
    return new HfCache(home.resolve(".cache/huggingface/hub"), "the default ~/.cache/huggingface/hub");
  }

  /** A cache at {@code root} (tests, or a user's explicit choice). */
  public static HfCache at(Path root) {
    return new HfCache(root, "the given cache root");
  }

  private static String nonEmpty(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : v;
  }

  private static Path expand(String value, Path home) {
    if (value.equals("~")) return home;
    if (value.startsWith("~/")) return home.resolve(value.substring(2));
    return Path.of(value);
  }

  public Path root() {
    return root;
  }

  /** Which setting chose {@link #root()}, for messages (e.g. "$HF_HOME/hub"). */
  public String rootSource() {
    return rootSource;
  }

  /** {@code models--org--name}: the repository's folder name (huggingface_hub's {@code repo_folder_name}). */
  public static String folderName(String repoId) {
    return "models--" + String.join("--", repoId.split("/"));
  }

  /** The repository's folder in this cache (whether or not it exists). */
  public Path repoDir(String repoId) {
    return root.resolve(folderName(repoId));
  }

  /**
   * The snapshot folder of {@code repoId} at {@code revision} (a branch or tag under {@code refs/}, or a 40-digit
   * commit hash; null means {@code main}), checked as described in the class comment. A missing repository, ref or
   * snapshot is a {@link UserInputException} saying where sr4g looked.
   */
  public Snapshot snapshot(String repoId, String revision) {
    String rev = revision == null ? "main" : revision;
    Path repo = repoDir(repoId);
    String label = repoId + (revision == null ? "" : "@" + revision);
    if (!Files.isDirectory(repo))
      throw new UserInputException(label + ": not in the Hugging Face cache (looked for " + repo + "; the cache is "
          + rootSource + "; set HF_HUB_CACHE or HF_HOME to use another one). sr4g never downloads: fetch it first,"
          + " e.g. `huggingface-cli download " + repoId + "`");
    String commit;
    if (COMMIT.matcher(rev).matches()) {
      commit = rev;
    } else {
      Path ref = refFile(repo, rev, label);
      if (!Files.isRegularFile(ref, LinkOption.NOFOLLOW_LINKS))
        throw new UserInputException(label + ": revision '" + rev + "' is not in the Hugging Face cache (no " + ref
            + "; cached refs: " + listing(repo.resolve("refs")) + "; cached snapshots: " + listing(repo.resolve("snapshots"))
            + ")");
      commit = readCommit(ref);
    }
    Path snap = repo.resolve("snapshots").resolve(commit);
    if (!Files.isDirectory(snap, LinkOption.NOFOLLOW_LINKS))
      throw new UserInputException(label + ": revision '" + rev + "' is commit " + commit + ", but " + snap
          + " is missing (cached snapshots: " + listing(repo.resolve("snapshots")) + ")");
    checkLinks(repo, snap);
    return new Snapshot(repoId, rev, commit, snap);
  }

  /** {@code refs/<rev>}, refusing names that would leave {@code refs/} ({@code ..}, absolute, empty segments). */
  private static Path refFile(Path repo, String rev, String label) {
    for (String seg : rev.split("/", -1))
      if (!REF_SEGMENT.matcher(seg).matches() || seg.equals(".") || seg.equals(".."))
        throw new UserInputException(label + ": '" + rev + "' is not a valid revision name");
    return repo.resolve("refs").resolve(rev);
  }

  private static String readCommit(Path ref) {
    try {
      if (Files.size(ref) > 256) throw new UserInputException(ref + ": not a commit hash (file too large)");
      String s = Files.readString(ref, StandardCharsets.UTF_8).strip();
      if (!COMMIT.matcher(s).matches())
        throw new UserInputException(ref + ": not a commit hash (expected 40 hexadecimal digits)");
      return s;
    } catch (IOException e) {
      throw new UserInputException(ref + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  /** Every link in {@code snap} must end in a regular file under {@code repo/blobs}; no folder may be a link. */
  static void checkLinks(Path repo, Path snap) {
    Path blobs;
    try {
      blobs = repo.resolve("blobs").toRealPath();
    } catch (IOException e) {
      blobs = null; // no blobs folder: any link at all is refused below
    }
    int n = 0;
    try (Stream<Path> walk = Files.walk(snap)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (++n > MAX_SNAPSHOT_ENTRIES)
          throw new UserInputException(snap + ": more than " + MAX_SNAPSHOT_ENTRIES + " entries, not a model snapshot");
        if (!Files.isSymbolicLink(p)) continue;
        Path target;
        try {
          target = p.toRealPath();
        } catch (IOException e) {
          throw new UserInputException(p + ": symbolic link to a missing blob (" + Files.readSymbolicLink(p)
              + "); the download is incomplete, fetch the model again");
        }
        if (blobs == null || !target.startsWith(blobs) || target.equals(blobs))
          throw new UserInputException(p + ": symbolic link leads outside the cache's " + repo.resolve("blobs")
              + " (to " + target + "); refused");
        if (!Files.isRegularFile(target))
          throw new UserInputException(p + ": symbolic link to " + target + ", which is not a file; refused");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + snap + ": " + e.getMessage(), e);
    }
  }

  private static String listing(Path dir) {
    if (!Files.isDirectory(dir)) return "none";
    List<String> names = new ArrayList<>();
    try (Stream<Path> s = Files.walk(dir, 3)) {
      s.filter(p -> !p.equals(dir) && !Files.isDirectory(p)
              || dir.getFileName().toString().equals("snapshots") && p.getParent().equals(dir))
          .forEach(p -> names.add(dir.relativize(p).toString()));
    } catch (IOException e) {
      return "unreadable";
    }
    names.sort(null);
    if (names.isEmpty()) return "none";
    return names.size() > 8 ? String.join(", ", names.subList(0, 8)) + ", …" : String.join(", ", names);
  }

  /** A checked snapshot: the repository, the revision asked for, the commit it resolved to and its folder. */
  public record Snapshot(String repoId, String revision, String commit, Path dir) {}
}

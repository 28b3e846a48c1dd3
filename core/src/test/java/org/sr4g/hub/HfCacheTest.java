package org.sr4g.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;

/**
 * The hub cache as huggingface_hub writes it, built by the test: {@code models--org--name/blobs/<hash>},
 * {@code refs/main} holding a commit, {@code snapshots/<commit>/…} symbolic links to {@code ../../blobs/<hash>}
 * (relative, one {@code ..} per folder level, as huggingface_hub makes them).
 */
class HfCacheTest {
  static final String C1 = "1d0c4ebf6ff58a5caecab40fa1406526bca4b5b9";
  static final String C2 = "aaaabbbbccccddddeeeeffff0000111122223333";

  /** A cache with org/model at two commits (main → C1, v2 → C2) holding model_index.json and unet/config.json. */
  static Path buildCache(Path root) throws Exception {
    Path repo = root.resolve("models--org--model");
    Files.createDirectories(repo.resolve("blobs"));
    Files.writeString(repo.resolve("blobs/b1"), "{\"_class_name\": \"StableDiffusionPipeline\"}");
    Files.writeString(repo.resolve("blobs/b2"), "{\"in_channels\": 4}");
    Files.createDirectories(repo.resolve("refs"));
    Files.writeString(repo.resolve("refs/main"), C1); // huggingface_hub writes no newline
    Files.writeString(repo.resolve("refs/v2"), C2 + "\n");
    for (String c : new String[] {C1, C2}) {
      Path snap = repo.resolve("snapshots").resolve(c);
      Files.createDirectories(snap.resolve("unet"));
      Files.createSymbolicLink(snap.resolve("model_index.json"), Path.of("../../blobs/b1"));
      Files.createSymbolicLink(snap.resolve("unet/config.json"), Path.of("../../../blobs/b2"));
    }
    return root;
  }

  @Test
  void rootFollowsHuggingfaceHubsPrecedence() {
    Path home = Path.of("/home/u");
    assertEquals(Path.of("/c"), HfCache.of(Map.of("HF_HUB_CACHE", "/c", "HF_HOME", "/h"), home).root());
    assertEquals(Path.of("/old"), HfCache.of(Map.of("HUGGINGFACE_HUB_CACHE", "/old", "HF_HOME", "/h"), home).root());
    assertEquals(Path.of("/h/hub"), HfCache.of(Map.of("HF_HOME", "/h", "XDG_CACHE_HOME", "/x"), home).root());
    assertEquals(Path.of("/x/huggingface/hub"), HfCache.of(Map.of("XDG_CACHE_HOME", "/x"), home).root());
    assertEquals(Path.of("/home/u/.cache/huggingface/hub"), HfCache.of(Map.of(), home).root());
    assertEquals(Path.of("/home/u/hf/hub"), HfCache.of(Map.of("HF_HOME", "~/hf"), home).root());
    assertEquals(Path.of("/home/u/.cache/huggingface/hub"), HfCache.of(Map.of("HF_HUB_CACHE", ""), home).root(),
        "an empty variable counts as unset");
    assertEquals("models--org--name", HfCache.folderName("org/name"));
    assertEquals("models--gpt2", HfCache.folderName("gpt2"));
  }

  @Test
  void refsLeadToSnapshotsAndLinksToBlobsAreAllowed(@TempDir Path tmp) throws Exception {
    HfCache cache = HfCache.at(buildCache(tmp));
    HfCache.Snapshot main = cache.snapshot("org/model", null);
    assertEquals(C1, main.commit());
    assertEquals(tmp.resolve("models--org--model/snapshots/" + C1), main.dir());
    assertEquals("{\"in_channels\": 4}", Files.readString(main.dir().resolve("unet/config.json")));
    assertEquals(C2, cache.snapshot("org/model", "v2").commit(), "a ref file may end with a newline");
    assertEquals(C2, cache.snapshot("org/model", C2).commit(), "a commit hash needs no ref");
  }

  @Test
  void missingRepositoryRevisionOrSnapshotSaysWhereItLooked(@TempDir Path tmp) throws Exception {
    HfCache cache = HfCache.at(buildCache(tmp));
    UserInputException e = assertThrows(UserInputException.class, () -> cache.snapshot("org/other", null));
    assertTrue(e.getMessage().contains(tmp.resolve("models--org--other").toString())
        && e.getMessage().contains("huggingface-cli download org/other"), e.getMessage());
    e = assertThrows(UserInputException.class, () -> cache.snapshot("org/model", "v9"));
    assertTrue(e.getMessage().contains("revision 'v9'") && e.getMessage().contains("cached refs: main, v2"), e.getMessage());
    e = assertThrows(UserInputException.class, () -> cache.snapshot("org/model", "0123456789012345678901234567890123456789"));
    assertTrue(e.getMessage().contains("is missing") && e.getMessage().contains(C1), e.getMessage());
    Files.writeString(tmp.resolve("models--org--model/refs/bad"), "not-a-hash");
    e = assertThrows(UserInputException.class, () -> cache.snapshot("org/model", "bad"));
    assertTrue(e.getMessage().contains("refs/bad: not a commit hash"), e.getMessage());
    for (String rev : new String[] {"../../etc", "a//b", "/abs", ".."}) {
      e = assertThrows(UserInputException.class, () -> cache.snapshot("org/model", rev));
      assertTrue(e.getMessage().contains("not a valid revision name"), rev + ": " + e.getMessage());
    }
  }

  @Test
  void linksLeavingTheBlobsFolderAreRefused(@TempDir Path tmp) throws Exception {
    HfCache cache = HfCache.at(buildCache(tmp.resolve("cache")));
    Path snap = tmp.resolve("cache/models--org--model/snapshots/" + C1);
    Path outside = Files.writeString(tmp.resolve("secret.txt"), "x");
    Files.createSymbolicLink(snap.resolve("vae.json"), outside);
    UserInputException e = assertThrows(UserInputException.class, () -> cache.snapshot("org/model", null));
    assertTrue(e.getMessage().contains("vae.json: symbolic link leads outside"), e.getMessage());
    Files.delete(snap.resolve("vae.json"));

    // A link into another repository's blobs is outside this repository's blobs too.
    Path other = tmp.resolve("cache/models--org--other/blobs");
    Files.createDirectories(other);
    Files.writeString(other.resolve("x"), "y");
    Files.createSymbolicLink(snap.resolve("x.json"), Path.of("../../../models--org--other/blobs/x"));
    assertThrows(UserInputException.class, () -> cache.snapshot("org/model", null));
    Files.delete(snap.resolve("x.json"));

    // A folder link (even to inside the cache) and a dangling link (an interrupted download).
    Files.createSymbolicLink(snap.resolve("tokenizer"), Path.of("../../blobs"));
    e = assertThrows(UserInputException.class, () -> cache.snapshot("org/model", null));
    assertTrue(e.getMessage().contains("tokenizer: symbolic link"), e.getMessage());
    Files.delete(snap.resolve("tokenizer"));
    Files.createSymbolicLink(snap.resolve("missing.bin"), Path.of("../../blobs/nope"));
    e = assertThrows(UserInputException.class, () -> cache.snapshot("org/model", null));
    assertTrue(e.getMessage().contains("missing blob"), e.getMessage());
    Files.delete(snap.resolve("missing.bin"));

    // Plain files (caches on systems without symlinks) are fine.
    Files.writeString(snap.resolve("README.md"), "hi");
    assertEquals(C1, cache.snapshot("org/model", null).commit());
  }

  @Test
  void locatorPrefersLocalPathsThenTheCache(@TempDir Path tmp) throws Exception {
    ModelLocator loc = new ModelLocator(HfCache.at(buildCache(tmp.resolve("cache"))));
    Path folder = Files.createDirectories(tmp.resolve("local"));
    ModelLocator.Location l = loc.find(folder.toString());
    assertEquals(folder, l.path());
    assertFalse(l.isFile());
    assertNull(l.snapshot());

    l = loc.find("org/model");
    assertEquals(C1, l.snapshot().commit());
    assertTrue(l.describe().contains("cached snapshot 1d0c4ebf6ff5"), l.describe());
    l = loc.find("org/model@v2/unet/config.json");
    assertTrue(l.isFile());
    assertEquals(C2, l.snapshot().commit());
    assertEquals("{\"in_channels\": 4}", Files.readString(l.path()));
    assertEquals(loc.find("org/model/unet").path(), loc.find("org/model@main/unet").path());
    UserInputException e = assertThrows(UserInputException.class, () -> loc.find("org/model/unet/config.json").requireFolder("--model"));
    assertTrue(e.getMessage().contains("is a single file"), e.getMessage());

    e = assertThrows(UserInputException.class, () -> loc.find("org/model/nope.safetensors"));
    assertTrue(e.getMessage().contains("nope.safetensors is not in the cached snapshot"), e.getMessage());
    e = assertThrows(UserInputException.class, () -> loc.find("runwayml/stable-diffusion-v1-5"));
    assertTrue(e.getMessage().startsWith("runwayml/stable-diffusion-v1-5: no such file or folder here; as a Hugging Face id:")
        && e.getMessage().contains("models--runwayml--stable-diffusion-v1-5") && !e.getMessage().contains("\n"), e.getMessage());
    e = assertThrows(UserInputException.class, () -> loc.find("/no/such/dir"));
    assertTrue(e.getMessage().contains("not a Hugging Face model id"), e.getMessage());
    e = assertThrows(UserInputException.class, () -> loc.find("org/model@main/../../../etc"));
    e = assertThrows(UserInputException.class, () -> loc.find("a--b/c"));
    assertTrue(e.getMessage().contains("not a Hugging Face model id"), e.getMessage());
  }

  @Test
  void aLocalSnapshotPathGetsTheLinkCheck(@TempDir Path tmp) throws Exception {
    buildCache(tmp.resolve("cache"));
    Path snap = tmp.resolve("cache/models--org--model/snapshots/" + C1);
    ModelLocator loc = new ModelLocator(HfCache.at(tmp.resolve("elsewhere")));
    assertEquals(snap, loc.find(snap.toString()).path());
    Files.createSymbolicLink(snap.resolve("unet/evil"), Path.of("/etc/hostname"));
    assertThrows(UserInputException.class, () -> loc.find(snap.toString()));
    assertThrows(UserInputException.class, () -> loc.find(snap.resolve("unet").toString()));
  }

  @Test
  void idSyntax() {
    assertEquals(new ModelLocator.HfId("org/name", null, null), ModelLocator.parse("org/name"));
    assertEquals(new ModelLocator.HfId("gpt2", null, null), ModelLocator.parse("gpt2"));
    assertEquals(new ModelLocator.HfId("org/name", "v1.0", "a/b.safetensors"), ModelLocator.parse("org/name@v1.0/a/b.safetensors"));
    assertEquals(new ModelLocator.HfId("org/name", null, "a/b"), ModelLocator.parse("org/name/a/b"));
    assertNull(ModelLocator.parse("/abs/path"));
    assertNull(ModelLocator.parse("org/-name"));
    assertNull(ModelLocator.parse("org/na..me"));
    assertNull(ModelLocator.parse("org/name.git"));
  }
}

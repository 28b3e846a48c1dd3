package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.ModelSources;
import org.sr4g.diffusion.lora.LoraAdapter;
import org.sr4g.diffusion.lora.LoraWriter;
import org.sr4g.diffusion.singlefile.LdmFixture;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Tensor;

/** init-model, convert, lora merge, sample --lora, hub ids and the load-time checks from the command line. */
class ModelCommandsTest {
  private static final String[] SAMPLE = {"--prompt", "a cat to the left of a dog", "--images-per-prompt", "1",
      "--steps", "2", "--width", "16", "--height", "16", "--seed", "4"};

  private static String[] sample(String model, Path out, String... extra) {
    List<String> a = new ArrayList<>(List.of("sample", "--model", model, "--out", out.toString()));
    a.addAll(Arrays.asList(SAMPLE));
    a.addAll(Arrays.asList(extra));
    return a.toArray(String[]::new);
  }

  /** {@code sr4g init-model --out tmp/tiny}. */
  private static Path tinyModel(Path tmp) {
    Path model = tmp.resolve("tiny");
    CliRun r = CliRun.of("init-model", "--out", model.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    return model;
  }

  private static byte[] image(Path out) throws Exception {
    return Files.readAllBytes(out.resolve("0_0.png"));
  }

  @Test
  void initModelWritesALoadableFolderOnce(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path m = tmp.resolve("tiny");
    CliRun r = CliRun.of("init-model", "--out", m.toString(), "--seed", "3");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("unet/diffusion_pytorch_model.safetensors: ") && r.out().contains("model: " + m), r.out());
    assertEquals(List.of(), ModelFolder.open(m, null).problems());
    long bytes;
    try (Stream<Path> s = Files.walk(m)) {
      bytes = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    assertTrue(bytes < 6_000_000, "a few MB at most: " + bytes);
    r = CliRun.of(sample(m.toString(), tmp.resolve("img")));
    assertEquals(0, r.code(), r.out() + r.err());
    r = CliRun.of("init-model", "--out", m.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("already exists"), r.err());
    r = CliRun.of("init-model", "--out", tmp.resolve("x").toString(), "--shape", "sd99");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--shape must be tiny or sd15-random"), r.err());
    // Same seed, same bytes.
    assertEquals(0, CliRun.of("init-model", "--out", tmp.resolve("again").toString(), "--seed", "3").code());
    assertArrayEquals(Files.readAllBytes(m.resolve("unet/diffusion_pytorch_model.safetensors")),
        Files.readAllBytes(tmp.resolve("again/unet/diffusion_pytorch_model.safetensors")));
  }

  @Test
  void hubIdsResolveFromTheLocalCache(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path model = tinyModel(tmp);
    // The cache as huggingface_hub lays it out: every file of the snapshot a link into blobs/.
    String commit = "8d9a3b1f0c5e4d7a6b2c1e0f9a8b7c6d5e4f3a2b";
    Path repo = tmp.resolve("hub/models--someone--tiny-sd");
    Files.createDirectories(repo.resolve("refs"));
    Files.writeString(repo.resolve("refs/main"), commit);
    Path blobs = Files.createDirectories(repo.resolve("blobs"));
    Path snap = repo.resolve("snapshots/" + commit);
    try (Stream<Path> s = Files.walk(model)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        Path rel = model.relativize(f);
        Path blob = blobs.resolve(Integer.toHexString(rel.toString().hashCode()));
        Files.copy(f, blob);
        Path link = snap.resolve(rel.toString());
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, link.getParent().relativize(blob));
      }
    }
    System.setProperty(ModelSources.CACHE_PROPERTY, tmp.resolve("hub").toString());
    try {
      CliRun r = CliRun.of(sample(model.toString(), tmp.resolve("local")));
      assertEquals(0, r.code(), r.out() + r.err());
      r = CliRun.of(sample("someone/tiny-sd", tmp.resolve("hub-main")));
      assertEquals(0, r.code(), r.out() + r.err());
      r = CliRun.of(sample("someone/tiny-sd@" + commit, tmp.resolve("hub-commit")));
      assertEquals(0, r.code(), r.out() + r.err());
      assertArrayEquals(image(tmp.resolve("local")), image(tmp.resolve("hub-main")));
      assertArrayEquals(image(tmp.resolve("local")), image(tmp.resolve("hub-commit")));
      r = CliRun.of(sample("someone/tiny-sd@v2", tmp.resolve("x")));
      assertEquals(2, r.code());
      assertTrue(r.err().contains("revision 'v2' is not in the Hugging Face cache") && r.err().trim().lines().count() == 1,
          r.err());
      r = CliRun.of(sample("someone/other", tmp.resolve("y")));
      assertEquals(2, r.code());
      assertTrue(r.err().contains(tmp.resolve("hub/models--someone--other").toString()), r.err());
      // A link that leaves the cache is refused with its name.
      Files.createSymbolicLink(snap.resolve("unet/extra.bin"), tmp.resolve("tiny/unet/config.json"));
      r = CliRun.of(sample("someone/tiny-sd", tmp.resolve("z")));
      assertEquals(2, r.code());
      assertTrue(r.err().contains("extra.bin: symbolic link leads outside"), r.err());
    } finally {
      System.clearProperty(ModelSources.CACHE_PROPERTY);
    }
  }

  @Test
  void singleFileSamplesLikeItsFolderConvertsAndIsRefusedByTrain(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path model = tinyModel(tmp);
    Path file = LdmFixture.write(ModelFolder.open(model, null), tmp.resolve("tiny-ldm.safetensors"), LdmFixture.Layout.sd1());
    CliRun r = CliRun.of(sample(file.toString(), tmp.resolve("no-config")));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("cannot tell the model family"), r.err());
    r = CliRun.of(sample(file.toString(), tmp.resolve("single"), "--config", model.toString()));
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals(0, CliRun.of(sample(model.toString(), tmp.resolve("folder"))).code());
    assertArrayEquals(image(tmp.resolve("folder")), image(tmp.resolve("single")));

    r = CliRun.of("convert", "--model", file.toString(), "--config", model.toString(), "--out", tmp.resolve("conv").toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertArrayEquals(Files.readAllBytes(model.resolve("unet/diffusion_pytorch_model.safetensors")),
        Files.readAllBytes(tmp.resolve("conv/unet/diffusion_pytorch_model.safetensors")));
    r = CliRun.of("convert", "--model", file.toString(), "--config", model.toString(), "--dtype", "f16", "--out",
        tmp.resolve("conv16").toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(Files.size(tmp.resolve("conv16/unet/diffusion_pytorch_model.safetensors"))
        < Files.size(tmp.resolve("conv/unet/diffusion_pytorch_model.safetensors")) * 0.6);

    r = CliRun.of("train", "--model", file.toString(), "--data", "x.jsonl", "--images", "x", "--out", tmp.resolve("t").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("sr4g convert --model " + file), r.err());
    // A .ckpt goes to the restricted PyTorch reader: a file that is not a PyTorch zip archive is one line naming it.
    Path ckpt = Files.writeString(tmp.resolve("model.ckpt"), "not read");
    r = CliRun.of(sample(ckpt.toString(), tmp.resolve("c")));
    assertEquals(2, r.code());
    assertTrue(r.err().contains(ckpt + ": 8 bytes is too short for a zip archive") && r.err().strip().lines().count() == 1,
        r.err());
  }

  @Test
  void loraOnTheFlyMergedAndAtScaleZero(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path model = tinyModel(tmp);
    Path lora = tmp.resolve("pytorch_lora_weights.safetensors");
    List<LoraAdapter> adapters = new ArrayList<>();
    try (Generator g = new Generator(Device.CPU, 5)) {
      for (String m : List.of("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v",
          "up_blocks.1.attentions.0.transformer_blocks.0.ff.net.2"))
        adapters.add(new LoraAdapter(m, Tensor.randn(g, DType.F32, 4, m.endsWith("to_v") ? 32 : 128).mul(0.2),
            Tensor.randn(g, DType.F32, 32, 4).mul(0.2), 4, 1));
    }
    LoraWriter.write(lora, Map.of(Part.UNET, adapters));
    adapters.forEach(LoraAdapter::close);

    assertEquals(0, CliRun.of(sample(model.toString(), tmp.resolve("base"))).code());
    CliRun r = CliRun.of(sample(model.toString(), tmp.resolve("zero"), "--lora", lora + ":0"));
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("2 layer(s), diffusers layout, scale 0.0"), r.out());
    r = CliRun.of(sample(model.toString(), tmp.resolve("one"), "--lora", lora.toString()));
    assertEquals(0, r.code(), r.out() + r.err());
    assertArrayEquals(image(tmp.resolve("base")), image(tmp.resolve("zero")), "scale 0: the base image");
    assertFalse(Arrays.equals(image(tmp.resolve("base")), image(tmp.resolve("one"))));

    r = CliRun.of("lora", "merge", "--model", model.toString(), "--lora", lora.toString(), "--out", tmp.resolve("merged").toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals(0, CliRun.of(sample(tmp.resolve("merged").toString(), tmp.resolve("from-merged"))).code());
    assertArrayEquals(image(tmp.resolve("one")), image(tmp.resolve("from-merged")), "merged = applied on the fly");
    r = CliRun.of(sample(model.toString(), tmp.resolve("bad"), "--lora", tmp.resolve("missing.safetensors").toString()));
    assertEquals(2, r.code());
  }

  /** The issue's crash: a tokenizer bigger than the text encoder's embedding table was exit 70 mid-sampling. */
  @Test
  void tokenizerLargerThanTheEmbeddingsIsAOneLineUserError(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path model = tinyModel(tmp);
    Path vocab = model.resolve("tokenizer/vocab.json");
    ObjectMapper json = new ObjectMapper();
    ObjectNode v = (ObjectNode) json.readTree(vocab.toFile());
    for (int i = 0; v.size() < 600; i++) v.put("extra" + i + "</w>", v.size());
    json.writeValue(vocab.toFile(), v);
    CliRun r = CliRun.of(sample(model.toString(), tmp.resolve("o")));
    assertEquals(2, r.code(), r.out() + r.err());
    assertEquals("sr4g sample: error: " + vocab + " has 600 tokens but " + model.resolve("text_encoder/config.json")
        + " has vocab_size 514: token ids from 514 on have no embedding (tokenizer and text encoder of different models?)",
        r.err().trim());
  }

  @Test
  void crossAttentionAndLatentChannelMismatchesAreUserErrors(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    Path model = tinyModel(tmp);
    Path unet = model.resolve("unet/config.json");
    String original = Files.readString(unet);
    Files.writeString(unet, original.replace("\"cross_attention_dim\" : 32", "\"cross_attention_dim\" : 48"));
    CliRun r = CliRun.of(sample(model.toString(), tmp.resolve("o")));
    assertEquals(2, r.code());
    assertTrue(r.err().contains(model.resolve("text_encoder/config.json") + " has hidden_size 32 but " + unet
        + " has cross_attention_dim 48"), r.err());
    Files.writeString(unet, original.replace("\"in_channels\" : 4", "\"in_channels\" : 8"));
    r = CliRun.of(sample(model.toString(), tmp.resolve("o")));
    assertEquals(2, r.code());
    assertTrue(r.err().contains(model.resolve("vae/config.json") + " has latent_channels 4 but " + unet
        + " has in_channels 8 and out_channels 4"), r.err());
  }
}

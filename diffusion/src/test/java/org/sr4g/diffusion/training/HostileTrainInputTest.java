package org.sr4g.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.RandomModelFolder;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;
import org.sr4g.io.Fifo;
import org.sr4g.torch.Device;
import org.sr4g.torch.NativeAssume;

/** Issue 11 items 2, 3, 7, 9, 11, 12 and 14: hostile train.jsonl rows, images, caches and tokenizers. */
class HostileTrainInputTest {
  @TempDir Path tmp;

  private Path jsonl(String... fileNames) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (String f : fileNames) sb.append("{\"file_name\":\"").append(f).append("\",\"caption\":\"a cat\"}\n");
    return Files.writeString(tmp.resolve("train.jsonl"), sb);
  }

  @Test
  void rowsWhoseFileLeavesTheImagesFolderAreRefusedBeforeAnyWork() throws Exception {
    for (String bad : new String[] {"../secret/x.jpg", "/etc/passwd", "../../../../etc/passwd"}) {
      Path f = jsonl("ok.jpg", bad);
      String m = assertThrows(UserInputException.class, () -> TrainData.read(f)).getMessage();
      assertTrue(m.startsWith(f + ":2: file name '" + bad + "'"), m);
    }
  }

  @Test
  void aNulInAFileNameIsOneLine() throws Exception {
    Path f = jsonl("a\\u0000b.jpg");
    assertEquals1(f + ":1: file name 'a\\u0000b.jpg' holds a NUL character",
        assertThrows(UserInputException.class, () -> TrainData.read(f)).getMessage());
  }

  private static void assertEquals1(String want, String got) {
    org.junit.jupiter.api.Assertions.assertEquals(want, got);
  }

  @Test
  void aFifoNamedInTrainJsonlIsRefusedNotWaitedOn() throws Exception {
    Path images = TrainingDataTest.writeImages(tmp.resolve("images"), 2);
    Fifo.make(images.resolve("fifo.jpg"));
    List<List<TrainRow>> ex = List.of(List.of(new TrainRow("fifo.jpg", "a cat", "", 1, 1)));
    try (DataLoader d = new DataLoader(ex, images, 16, false, false, 1, 1, 1, 0)) {
      assertTrue(assertThrows(UserInputException.class, () -> d.next(1)).getMessage().contains("FIFO"));
    }
  }

  @Test
  void aTruncatedJpegIsSkippedNotTrainedOnHalfGrey() throws Exception {
    BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
    SplittableRandom r = new SplittableRandom(1);
    for (int y = 0; y < 64; y++) for (int x = 0; x < 64; x++) img.setRGB(x, y, r.nextInt(1 << 24));
    ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
    ImageIO.write(img, "jpg", jpeg);
    byte[] all = jpeg.toByteArray();
    Path whole = Files.write(tmp.resolve("whole.jpg"), all);
    Path third = Files.write(tmp.resolve("third.jpg"), Arrays.copyOf(all, all.length / 3));
    assertNotNull(ImagePrep.decode(whole));
    assertNull(ImagePrep.decode(third));
  }

  @Test
  void aDecompressionBombIsRefusedFromItsHeaderBeforeDecoding() throws Exception {
    Path bomb = Files.write(tmp.resolve("bomb.png"), pngHeaderOnly(20000, 20000));
    String m = assertThrows(UserInputException.class, () -> ImagePrep.decode(bomb)).getMessage();
    assertTrue(m.contains("20000x20000 = 400000000 pixels exceeds --max-image-pixels 89478485"), m);
    assertThrows(UserInputException.class, () -> ImagePrep.decode(Files.write(tmp.resolve("s.png"), pngHeaderOnly(20, 20)), 399));
  }

  /** A PNG whose IHDR declares w×h RGB and whose (tiny, wrong) IDAT is never reached. */
  static byte[] pngHeaderOnly(int w, int h) throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    DataOutputStream d = new DataOutputStream(b);
    d.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
    DataOutputStream i = new DataOutputStream(ihdr);
    i.writeInt(w);
    i.writeInt(h);
    i.write(new byte[] {8, 2, 0, 0, 0});
    chunk(d, "IHDR", ihdr.toByteArray());
    chunk(d, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00});
    chunk(d, "IEND", new byte[0]);
    return b.toByteArray();
  }

  private static void chunk(DataOutputStream d, String type, byte[] data) throws Exception {
    d.writeInt(data.length);
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    d.write(t);
    d.write(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    d.writeInt((int) crc.getValue());
  }

  private static final String INDEX = "{\"format\":\"sr4g-latent-cache-1\",\"resolution\":16,\"shard_size\":2,"
      + "\"latent_shape\":[4,2,2],\"embedding_shape\":[77,32],\"images\":2,\"captions\":1,"
      + "\"samples\":[{\"image\":0,\"caption\":0},{\"image\":1,\"caption\":0}]}";

  private String cacheRefused(String index) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("cache"));
    Files.writeString(dir.resolve("index.json"), index);
    return assertThrows(UserInputException.class, () -> LatentCache.open(dir).close(), index).getMessage();
  }

  @Test
  void aCacheIndexIsValidatedBeforeUse() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("cache"));
    Files.writeString(dir.resolve("index.json"), INDEX);
    LatentCache.open(dir).close();
    for (String[] bad : new String[][] {
        {"", "empty file"}, {"{\"a\":", "not valid JSON"}, {"[]", "expected a JSON object"}, {INDEX.replace(",\"samples\":[{\"image\":0,\"caption\":0},{\"image\":1,\"caption\":0}]", ""), "'samples'"},
        {INDEX.replace("[{\"image\":0,\"caption\":0},{\"image\":1,\"caption\":0}]", "{\"x\":1}"), "'samples' must be an array"},
        {INDEX.replace("\"shard_size\":2", "\"shard_size\":0"), "'shard_size'"},
        {INDEX.replace("[77,32]", "[77,-32]"), "embedding_shape[1]"},
        {INDEX.replace("[4,2,2]", "[4,2]"), "'latent_shape'"},
        {INDEX.replace("\"image\":1,", "\"image\":1099511627776,"), "'image' must be an integer"},
        {INDEX.replace("\"image\":1,", "\"image\":\"zero\","), "'image' must be an integer"},
        {INDEX.replace("\"image\":1,", "\"image\":2,"), "'image' must be an integer in [0, 1]"}}) {
      String m = cacheRefused(bad[0]);
      assertTrue(m.contains(bad[1]) && !m.contains("\n"), m);
    }
  }

  @Test
  void aShardTensorOfTheWrongShapeIsAUserError() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("cache"));
    Files.writeString(dir.resolve("index.json"), INDEX);
    new SafetensorsWriter().putF32("mean/0", new float[3], 3).putF32("std/0", new float[16], 4, 2, 2)
        .write(dir.resolve("latents-00000.safetensors"));
    try (LatentCache c = LatentCache.open(dir)) {
      assertTrue(assertThrows(UserInputException.class, () -> c.mean(0)).getMessage().contains("index.json says [4, 2, 2]"));
      assertTrue(assertThrows(UserInputException.class, () -> c.mean(1)).getMessage().contains("no tensor named"));
      assertTrue(assertThrows(UserInputException.class, () -> c.embedding(0)).getMessage().contains("no such file"));
    }
  }

  @Test
  void aNaNCacheStopsTrainingBeforeAnythingIsWrittenOrPublished() throws Exception {
    NativeAssume.torch();
    TrainOptions base = TrainerTest.options(tmp, "unused");
    Path cache = tmp.resolve("cache");
    LatentCache.build(base.model, base.data, base.images, cache, 16, "cpu", 10, 4, line -> {});
    Path shard = cache.resolve("latents-00000.safetensors");
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile f = SafetensorsFile.open(shard)) {
      for (String k : f.keys()) {
        float[] v = f.readFloats(k);
        Arrays.fill(v, Float.NaN);
        w.putF32(k, v, f.info(k).shape());
      }
    }
    w.write(shard);
    TrainOptions o = new TrainOptions();
    o.model = base.model;
    o.cache = cache;
    o.out = tmp.resolve("run");
    o.resolution = 16;
    o.maxSteps = 3;
    o.checkpointEvery = 1;
    String m = assertThrows(UserInputException.class, () -> Trainer.train(o, TrainerTest.QUIET)).getMessage();
    assertTrue(m.startsWith("step 1: the loss is NaN"), m);
    assertFalse(Files.exists(o.out), "no folder, no metrics.jsonl, no checkpoint, no model");
  }

  @Test
  void aVocabularyLargerThanTheEmbeddingTableIsRefusedAtLoad() throws Exception {
    NativeAssume.torch();
    Path model = RandomModelFolder.write(tmp.resolve("model"), 3);
    Path vocab = model.resolve("tokenizer/vocab.json");
    String v = Files.readString(vocab);
    Files.writeString(vocab, v.substring(0, v.lastIndexOf('}')) + ",\"extra</w>\":514}");
    String m = assertThrows(UserInputException.class, () -> DiffusersModel.load(model, null, Device.CPU).close()).getMessage();
    assertTrue(m.contains("vocab.json has 515 tokens") && m.contains("text_encoder/config.json has vocab_size 514"), m);
  }
}

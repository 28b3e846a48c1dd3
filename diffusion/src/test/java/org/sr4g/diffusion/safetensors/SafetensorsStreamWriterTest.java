package org.sr4g.diffusion.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming writer writes the same bytes as {@link SafetensorsWriter} and leaves nothing when abandoned. */
class SafetensorsStreamWriterTest {

  @Test
  void sameBytesAsTheInMemoryWriter(@TempDir Path tmp) throws Exception {
    float[] a = {1.5f, -2f, 65504f, 1e-8f, Float.NaN, 3.14159f}, b = {0.1f, 0.2f}, c = {7f};
    SafetensorsWriter mem = new SafetensorsWriter().putF16("z.half", a, 2, 3).putF32("a.full", b, 2)
        .putBF16("m.brain", c).putMetadata("k", "v");
    mem.write(tmp.resolve("mem.safetensors"));
    Map<String, TensorInfo> layout = new LinkedHashMap<>();
    layout.put("z.half", new TensorInfo("F16", new long[] {2, 3}));
    layout.put("a.full", new TensorInfo("F32", new long[] {2}));
    layout.put("m.brain", new TensorInfo("BF16", new long[] {}));
    assertEquals(List.of("a.full", "m.brain", "z.half"), SafetensorsStreamWriter.order(layout));
    try (SafetensorsStreamWriter w = SafetensorsStreamWriter.create(tmp.resolve("stream.safetensors"), layout, Map.of("k", "v"))) {
      w.put("a.full", b);
      w.put("m.brain", c);
      w.put("z.half", a);
      w.finish();
    }
    assertArrayEquals(Files.readAllBytes(tmp.resolve("mem.safetensors")), Files.readAllBytes(tmp.resolve("stream.safetensors")));
  }

  @Test
  void outOfOrderIncompleteOrAbandonedWritesLeaveNothing(@TempDir Path tmp) throws Exception {
    Map<String, TensorInfo> layout = Map.of("a", new TensorInfo("F32", new long[] {2}), "b", new TensorInfo("F32", new long[] {1}));
    Path f = tmp.resolve("x.safetensors");
    try (SafetensorsStreamWriter w = SafetensorsStreamWriter.create(f, layout, Map.of())) {
      assertThrows(IllegalStateException.class, () -> w.put("b", new float[1]));
    }
    try (SafetensorsStreamWriter w = SafetensorsStreamWriter.create(f, layout, Map.of())) {
      w.put("a", new float[2]);
      assertThrows(IllegalStateException.class, w::finish);
    }
    try (SafetensorsStreamWriter w = SafetensorsStreamWriter.create(f, layout, Map.of())) {
      assertThrows(IllegalArgumentException.class, () -> w.put("a", new float[3]));
    }
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(), s.toList(), "no file and no temporary left");
    }
    assertThrows(IllegalArgumentException.class,
        () -> SafetensorsStreamWriter.create(f, Map.of("i", new TensorInfo("I64", new long[] {1})), Map.of()));
  }
}

package org.sr4g.diffusion.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.sr4g.io.AtomicFiles;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.Txt2Img;

/**
 * Validation during training: the prompts of {@code --validation-prompts} sampled with the current UNet (few steps,
 * fixed seed) into one PNG grid, {@code OUT/validation/step-<N>.png}. With {@code --ema} the trainer swaps the EMA
 * weights in around {@link #writeGrid} ({@link Ema#swapIn}, {@link Ema#restore}).
 */
public final class Validation {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Images per grid row. */
  public static final int COLUMNS = 4;

  private Validation() {}

  /**
   * {@code spec} names a file when one exists there: one prompt per non-blank line, or per JSONL object (its
   * {@code prompt}, {@code text} or {@code caption} field); otherwise {@code spec} is itself the one prompt.
   */
  public static List<String> prompts(String spec) {
    Path file = null;
    try {
      file = Path.of(spec);
    } catch (InvalidPathException e) {
      // not a path: a prompt
    }
    if (file == null || !Files.isRegularFile(file)) {
      if (spec.isBlank()) throw new UserInputException("--validation-prompts: empty prompt");
      return List.of(spec);
    }
    List<String> r = new ArrayList<>();
    try {
      int line = 0;
      for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        line++;
        String s = l.strip();
        if (s.isEmpty()) continue;
        if (s.startsWith("{")) {
          JsonNode n;
          try {
            n = JSON.readTree(s);
          } catch (IOException e) {
            throw new UserInputException(file + ":" + line + ": not JSON");
          }
          String p = n.path("prompt").asText(n.path("text").asText(n.path("caption").asText("")));
          if (p.isBlank()) throw new UserInputException(file + ":" + line + ": no prompt, text or caption field");
          r.add(p);
        } else {
          r.add(s);
        }
      }
    } catch (IOException e) {
      throw new UserInputException("--validation-prompts " + file + ": " + e.getMessage(), e);
    }
    if (r.isEmpty()) throw new UserInputException("--validation-prompts " + file + ": no prompts");
    return r;
  }

  /** Grid of {@code min(n, COLUMNS)} × {@code ceil(n / COLUMNS)} cells of {@code size} px, written atomically. */
  public static Path writeGrid(Txt2Img pipe, List<String> prompts, int size, int steps, long seed, int clipSkip,
      Path out, long step) {
    int n = prompts.size(), cols = Math.min(n, COLUMNS), rows = (n + COLUMNS - 1) / COLUMNS;
    BufferedImage grid = new BufferedImage(cols * size, rows * size, BufferedImage.TYPE_INT_RGB);
    var g = grid.createGraphics();
    try {
      for (int i = 0; i < n; i++) {
        BufferedImage img = pipe.generate(new Txt2Img.Request(prompts.get(i), "", size, size, steps, 7.5, seed + i,
            clipSkip));
        g.drawImage(img, (i % COLUMNS) * size, (i / COLUMNS) * size, null);
      }
    } finally {
      g.dispose();
    }
    try {
      Path dir = Files.createDirectories(out.resolve("validation"));
      Path tmp = dir.resolve(".step-" + step + ".png.tmp");
      if (!ImageIO.write(grid, "png", tmp.toFile())) throw new IOException("no PNG writer");
      Path fin = dir.resolve("step-" + step + ".png");
      AtomicFiles.move(tmp, fin);
      return fin;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

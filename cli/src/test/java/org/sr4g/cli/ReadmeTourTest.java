package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.torch.NativeAssume;

/**
 * The README's "Try it offline" block, executed as written: every {@code ./sr4g …} line in a fresh JVM whose working
 * directory is an empty folder (as a user would, without the launcher's build step), and every {@code cat > FILE
 * <<'EOF'} here-document written as the shell would. Any other kind of line fails the test, so the block stays plain.
 */
class ReadmeTourTest {
  private static final Pattern HEREDOC = Pattern.compile("cat > (\\S+) <<'EOF'");

  @Test
  void readmeTryItOfflineRunsTopToBottom(@TempDir Path tmp) throws Exception {
    NativeAssume.torch();
    List<String> lines = tourLines(Path.of("..", "README.md"));
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("./sr4g init-model")), lines::toString);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      Matcher h = HEREDOC.matcher(line);
      if (h.matches()) {
        StringBuilder text = new StringBuilder();
        while (!lines.get(++i).equals("EOF")) text.append(lines.get(i)).append('\n');
        Files.writeString(tmp.resolve(h.group(1)), text.toString(), StandardCharsets.UTF_8);
      } else if (line.startsWith("./sr4g ")) {
        run(tmp, words(line.substring("./sr4g ".length())));
      } else {
        fail("README tour: a line the test cannot run: " + line);
      }
    }
    for (String f : List.of("try/tiny-model/model_index.json", "try/images/0_1.png", "try/run/model/unet/config.json",
        "try/cache/index.json", "try/run-cached/model/unet/diffusion_pytorch_model.safetensors", "try/tuned/0_0.png",
        "try/lora/pytorch_lora_weights.safetensors",
        "try/eval/metrics.json"))
      assertTrue(Files.isRegularFile(tmp.resolve(f)), f);
    assertEquals(5, Files.readAllLines(tmp.resolve("try/run/metrics.jsonl")).size(), "train --max-steps 5");
  }

  /** The lines between the tour markers, without the code fence. */
  static List<String> tourLines(Path readme) throws Exception {
    String s = Files.readString(readme);
    int a = s.indexOf("<!-- readme-tour:begin -->"), b = s.indexOf("<!-- readme-tour:end -->");
    assertTrue(a >= 0 && b > a, "README.md has the tour markers");
    List<String> out = new ArrayList<>();
    for (String l : s.substring(a, b).split("\n")) {
      if (l.startsWith("<!--") || l.startsWith("```") || l.isBlank()) continue;
      out.add(l);
    }
    return out;
  }

  /** Shell words: whitespace-separated, with '…' and "…" quoting (no expansions: the block uses none). */
  static List<String> words(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder w = new StringBuilder();
    boolean in = false;
    char quote = 0;
    for (char c : line.toCharArray()) {
      if (quote != 0) {
        if (c == quote) quote = 0;
        else w.append(c);
      } else if (c == '"' || c == '\'') {
        quote = c;
        in = true;
      } else if (Character.isWhitespace(c)) {
        if (in) out.add(w.toString());
        w.setLength(0);
        in = false;
      } else {
        if (c == '#' && !in) break; // a comment
        w.append(c);
        in = true;
      }
    }
    if (quote != 0) fail("unbalanced quote in: " + line);
    if (in) out.add(w.toString());
    return out;
  }

  private static void run(Path cwd, List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp",
        System.getProperty("java.class.path"), Sr4g.class.getName()));
    cmd.addAll(args);
    Path log = cwd.resolve(".command.log");
    Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("timed out: sr4g " + String.join(" ", args));
    }
    assertEquals(0, p.exitValue(), "sr4g " + String.join(" ", args) + "\n" + Files.readString(log));
  }
}

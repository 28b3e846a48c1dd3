package org.sr4g.diffusion.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.sr4g.UserInputException;
import org.sr4g.io.Escape;

/**
 * The CLIP byte-level BPE tokenizer used by Stable Diffusion's text encoder, equivalent to OpenAI's
 * {@code SimpleTokenizer} and to Hugging Face's {@code CLIPTokenizer}: clean the caption ({@link #clean}), split it with
 * CLIP's regex, map each piece's UTF-8 bytes to characters, mark the word end with {@code </w>}, merge pairs by rank,
 * look the pieces up. {@link #tokenize} adds the start/end tokens and truncates/pads to {@value #CONTEXT_LENGTH}.
 *
 * <p>Thread-safe (the per-word cache is concurrent).
 */
public final class ClipTokenizer {
  public static final int CONTEXT_LENGTH = 77;
  public static final String START_TOKEN = "<|startoftext|>";
  public static final String END_TOKEN = "<|endoftext|>";
  /** Merges the OpenAI vocabulary file contributes ({@code 49152 - 256 - 2}); its later lines are unused. */
  static final int OPENAI_MERGES = 48894;

  private static final Pattern PIECES = Pattern.compile(
      "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
      Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, Integer> vocab;
  private final String[] idToToken;
  /** Merge ranks keyed by {@code first + " " + second} (pieces never contain a space: bytes are mapped). */
  private final Map<String, Integer> mergeRanks;
  private final int startId;
  private final int endId;
  private final int padId;
  private final Map<String, String[]> cache = new ConcurrentHashMap<>();

  private ClipTokenizer(Map<String, Integer> vocab, Map<String, Integer> mergeRanks, int padId) {
    this.vocab = vocab;
    this.mergeRanks = mergeRanks;
    this.idToToken = new String[vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1];
    vocab.forEach((t, id) -> idToToken[id] = t);
    this.startId = vocab.get(START_TOKEN);
    this.endId = vocab.get(END_TOKEN);
    this.padId = padId;
  }

  private ClipTokenizer(ClipTokenizer base, int padId) {
    this.vocab = base.vocab;
    this.idToToken = base.idToToken;
    this.mergeRanks = base.mergeRanks;
    this.startId = base.startId;
    this.endId = base.endId;
    this.padId = padId;
  }

  // ----------------------------------------------------------------------------------------------------- loading

  /**
   * Loads a Stable Diffusion {@code tokenizer/} folder ({@code vocab.json}, {@code merges.txt}); {@code dir} may also
   * be the checkpoint root holding {@code tokenizer/}. The pad token comes from {@code special_tokens_map.json} when
   * present (SD 2.x: {@code "!"}, id 0), else the end token (SD 1.x).
   */
  public static ClipTokenizer fromFolder(Path dir) {
    if (!Files.exists(dir.resolve("vocab.json")) && Files.isDirectory(dir.resolve("tokenizer"))) dir = dir.resolve("tokenizer");
    ClipTokenizer t = fromVocabAndMerges(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
    Path special = dir.resolve("special_tokens_map.json");
    if (Files.exists(special)) {
      JsonNode pad = readJson(special).get("pad_token");
      if (pad != null && pad.isObject()) pad = pad.get("content");
      if (pad != null && pad.isTextual()) {
        Integer id = t.vocab.get(pad.textValue());
        if (id == null) throw new UserInputException(special + ": pad_token '" + pad.textValue() + "' is not in the vocabulary");
        return t.withPadId(id);
      }
    }
    return t;
  }

  /** Loads the Hugging Face format: {@code vocab.json} (token → id) and {@code merges.txt} ({@code #version} line, pairs). */
  public static ClipTokenizer fromVocabAndMerges(Path vocabJson, Path mergesTxt) {
    JsonNode root = readJson(vocabJson);
    if (!root.isObject()) throw new UserInputException(vocabJson + ": expected a JSON object mapping token to id");
    Map<String, Integer> vocab = new HashMap<>(root.size() * 2);
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber() || e.getValue().intValue() < 0)
        throw new UserInputException(vocabJson + ": token '" + e.getKey() + "' has id " + e.getValue() + ", not a non-negative integer");
      vocab.put(e.getKey(), e.getValue().intValue());
    }
    // Ids index an array: they must be dense (0..size-1, each once), as in every CLIP vocabulary.
    boolean[] seen = new boolean[vocab.size()];
    for (Map.Entry<String, Integer> e : vocab.entrySet()) {
      int id = e.getValue();
      if (id >= seen.length || seen[id])
        throw new UserInputException(vocabJson + ": token '" + e.getKey() + "' has id " + id
            + (id >= seen.length ? ", beyond the " + seen.length + " entries" : ", already used by another token"));
      seen[id] = true;
    }
    List<String> lines = readLines(mergesTxt);
    Map<String, Integer> ranks = new HashMap<>();
    int first = !lines.isEmpty() && lines.get(0).startsWith("#version") ? 1 : 0;
    for (int i = first; i < lines.size(); i++) {
      if (lines.get(i).isEmpty()) continue;
      addMerge(ranks, mergesTxt, i + 1, lines.get(i));
    }
    return build(vocab, ranks, vocabJson);
  }

  /** Loads OpenAI's {@code bpe_simple_vocab_16e6.txt.gz}: the vocabulary is derived from the merges. */
  public static ClipTokenizer fromOpenAiBpe(Path gz) {
    List<String> lines;
    try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
      lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    } catch (NoSuchFileException e) {
      throw new UserInputException(gz + ": no such file", e);
    } catch (IOException e) {
      throw new UserInputException(gz + ": cannot read as gzip: " + e.getMessage(), e);
    }
    if (lines.size() < OPENAI_MERGES + 1)
      throw new UserInputException(gz + ": " + lines.size() + " lines, expected a header and at least " + OPENAI_MERGES + " merges");
    Map<String, Integer> vocab = new HashMap<>();
    for (char c : ByteLevel.VOCAB_ORDER) vocab.put(String.valueOf(c), vocab.size());
    for (char c : ByteLevel.VOCAB_ORDER) vocab.put(c + "</w>", vocab.size());
    Map<String, Integer> ranks = new HashMap<>();
    for (int i = 1; i <= OPENAI_MERGES; i++) {
      String[] pair = addMerge(ranks, gz, i + 1, lines.get(i));
      vocab.putIfAbsent(pair[0] + pair[1], vocab.size());
    }
    vocab.put(START_TOKEN, vocab.size());
    vocab.put(END_TOKEN, vocab.size());
    return build(vocab, ranks, gz);
  }

  private static String[] addMerge(Map<String, Integer> ranks, Path file, int lineNo, String line) {
    String[] pair = line.split(" ");
    if (pair.length != 2 || pair[0].isEmpty() || pair[1].isEmpty())
      throw new UserInputException(file + ":" + lineNo + ": expected a merge 'a b', found '" + line + "'");
    ranks.putIfAbsent(pair[0] + " " + pair[1], ranks.size());
    return pair;
  }

  private static ClipTokenizer build(Map<String, Integer> vocab, Map<String, Integer> ranks, Path file) {
    for (String special : List.of(START_TOKEN, END_TOKEN))
      if (!vocab.containsKey(special)) throw new UserInputException(file + ": vocabulary lacks " + special);
    return new ClipTokenizer(vocab, ranks, vocab.get(END_TOKEN));
  }

  private static JsonNode readJson(Path p) {
    try {
      return JSON.readTree(p.toFile());
    } catch (JsonProcessingException e) {
      throw new UserInputException(p + ": not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UserInputException(p + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static List<String> readLines(Path p) {
    try {
      return Files.readAllLines(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UserInputException(p + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** The same vocabulary padding with {@code padId} (SD 2.x pads with 0, {@code "!"}). */
  public ClipTokenizer withPadId(int padId) {
    if (padId < 0 || padId >= idToToken.length) throw new IllegalArgumentException("pad id " + padId + " outside the vocabulary");
    return new ClipTokenizer(this, padId);
  }

  // ---------------------------------------------------------------------------------------------------- encoding

  /** CLIP's caption normalisation (see {@link TextCleaner}). */
  public static String clean(String text) {
    return TextCleaner.clean(text);
  }

  /** Token strings of {@code text}, without start/end tokens and without truncation. */
  public List<String> tokens(String text) {
    return tokens(text, Integer.MAX_VALUE);
  }

  /** The first tokens of {@code text}, at least {@code max} when there are that many: later pieces are not merged. */
  private List<String> tokens(String text, int max) {
    List<String> out = new ArrayList<>();
    Matcher m = PIECES.matcher(clean(text));
    while (out.size() < max && m.find()) out.addAll(Arrays.asList(bpe(m.group())));
    return out;
  }

  /** Token ids of {@code text}, without start/end tokens and without truncation. */
  public int[] encode(String text) {
    return encode(text, Integer.MAX_VALUE);
  }

  private int[] encode(String text, int max) {
    List<String> tokens = tokens(text, max);
    int[] ids = new int[tokens.size()];
    for (int i = 0; i < ids.length; i++) {
      Integer id = vocab.get(tokens.get(i));
      // A vocabulary without every byte token (a hostile or broken vocab.json) cannot encode every text.
      if (id == null)
        throw new UserInputException("the tokenizer's vocabulary lacks the token " + Escape.quote(tokens.get(i))
            + " that BPE produced (vocab.json must hold all 256 byte tokens and their </w> forms)");
      ids[i] = id;
    }
    return ids;
  }

  /** The {@value #CONTEXT_LENGTH} ids the text encoder takes: start, at most 75 tokens, end, padding. */
  public long[] tokenize(String text) {
    // Only the first CONTEXT_LENGTH - 2 tokens are kept: a 1 MB prompt is not merged past them.
    int[] bpe = encode(text, CONTEXT_LENGTH - 2);
    long[] ids = new long[CONTEXT_LENGTH];
    Arrays.fill(ids, padId);
    ids[0] = startId;
    int n = Math.min(bpe.length, CONTEXT_LENGTH - 2);
    for (int i = 0; i < n; i++) ids[1 + i] = bpe[i];
    ids[1 + n] = endId;
    return ids;
  }

  public int startId() {
    return startId;
  }

  public int endId() {
    return endId;
  }

  public int padId() {
    return padId;
  }

  public int vocabSize() {
    return vocab.size();
  }

  public String token(int id) {
    return idToToken[id];
  }

  /** The id of {@code token}, or -1 when the vocabulary lacks it. */
  public int id(String token) {
    Integer id = vocab.get(token);
    return id == null ? -1 : id;
  }

  /** BPE of one regex piece; special tokens pass through whole. */
  private String[] bpe(String piece) {
    if (piece.equalsIgnoreCase(START_TOKEN) || piece.equalsIgnoreCase(END_TOKEN))
      return new String[] {piece.toLowerCase(java.util.Locale.ROOT)};
    return cache.computeIfAbsent(piece, p -> merge(ByteLevel.encode(p.getBytes(StandardCharsets.UTF_8))));
  }

  /** Repeatedly merges the lowest-ranked adjacent pair (every occurrence, left to right) until none is in the table. */
  private String[] merge(String chars) {
    List<String> word = new ArrayList<>(chars.length());
    for (int i = 0; i < chars.length(); i++) word.add(String.valueOf(chars.charAt(i)));
    word.set(word.size() - 1, word.get(word.size() - 1) + "</w>");
    while (word.size() > 1) {
      int bestRank = Integer.MAX_VALUE;
      String bestFirst = null;
      String bestSecond = null;
      for (int i = 0; i + 1 < word.size(); i++) {
        Integer r = mergeRanks.get(word.get(i) + " " + word.get(i + 1));
        if (r != null && r < bestRank) {
          bestRank = r;
          bestFirst = word.get(i);
          bestSecond = word.get(i + 1);
        }
      }
      if (bestFirst == null) break;
      List<String> next = new ArrayList<>(word.size());
      for (int i = 0; i < word.size(); ) {
        if (i + 1 < word.size() && word.get(i).equals(bestFirst) && word.get(i + 1).equals(bestSecond)) {
          next.add(bestFirst + bestSecond);
          i += 2;
        } else {
          next.add(word.get(i++));
        }
      }
      word = next;
    }
    return word.toArray(String[]::new);
  }
}

package org.sr4g.diffusion.pytorch;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.pytorch.PickleValues.Global;
import org.sr4g.diffusion.pytorch.PickleValues.OrderedDict;
import org.sr4g.diffusion.pytorch.PickleValues.Storage;
import org.sr4g.diffusion.pytorch.PickleValues.TensorView;
import org.sr4g.diffusion.pytorch.PickleValues.Tuple;

/**
 * A pickle reader that admits what {@code torch.load(weights_only=True)} admits and builds plain Java values
 * ({@link PickleValues}); it never looks up, imports or calls anything named in the file.
 *
 * <ul>
 *   <li><b>Opcodes</b>: exactly torch's weights-only set (protocol 2 as {@code torch.save} writes it): PROTO, STOP,
 *       MARK, the empty containers, TUPLE/TUPLE1-3, BININT/BININT1/BININT2/LONG1, BINFLOAT, NONE, NEWTRUE/NEWFALSE,
 *       BINUNICODE, SHORT_BINSTRING, BINPUT/LONG_BINPUT, BINGET/LONG_BINGET, GLOBAL, REDUCE, BUILD, NEWOBJ,
 *       SETITEM(S), APPEND(S), BINPERSID. Anything else (INST, OBJ, STACK_GLOBAL, EXT*, PERSID, ...) is refused.
 *   <li><b>Globals</b>: a GLOBAL is checked by name when it is read. Admitted: {@code collections.OrderedDict},
 *       {@code torch._utils._rebuild_tensor(_v2|_v3)}, {@code _rebuild_parameter(_with_state)},
 *       {@code torch._tensor._rebuild_from_type_v2}, {@code torch.nn.parameter.Parameter}, {@code torch.Tensor},
 *       {@code torch.Size}, the dense storage classes and dtypes, {@code _codecs.encode} (bytes),
 *       {@code builtins.set}/{@code bytearray}, {@code collections.Counter}. Globals torch admits for tensor kinds
 *       read nowhere here (sparse, quantized, meta, subclasses, complex) are refused as unsupported; every other
 *       global (os.system, builtins.eval, any class of the saving program) is refused as not allowed.
 *   <li><b>REDUCE / NEWOBJ / BUILD</b> only on those admitted names, each interpreted by sr4g (a tensor becomes a
 *       {@link TensorView}); BUILD only on OrderedDicts (attributes such as {@code _metadata}, dropped).
 * </ul>
 * Every error names the file, the byte offset in the pickle and the problem.
 */
final class WeightsOnlyUnpickler {
  private static final int MAX_LINE = 512;
  private static final Set<String> STORAGE_MODULES = Set.of("torch", "torch.cuda");
  /** Globals torch's allow-list has for things sr4g does not read: refused as unsupported, not as unsafe. */
  private static final Set<String> TORCH_ONLY = Set.of("torch.serialization._get_layout", "torch.device",
      "builtins.complex", "torch.per_tensor_affine", "torch.per_tensor_symmetric", "torch.per_channel_affine",
      "torch.per_channel_symmetric", "torch.per_channel_affine_float_qparams");

  private final String where;
  private final ByteBuffer in;
  private final Function<Tuple, Storage> persistentLoad;
  private final Map<Long, Object> memo = new HashMap<>();
  private List<Object> stack = new ArrayList<>();
  private final List<List<Object>> metastack = new ArrayList<>();
  private int opAt;

  private WeightsOnlyUnpickler(String where, byte[] pickle, Function<Tuple, Storage> persistentLoad) {
    this.where = where;
    this.in = ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN);
    this.persistentLoad = persistentLoad;
  }

  /**
   * Reads {@code pickle}; {@code persistentLoad} turns a BINPERSID id (a tuple whose first item is "storage") into a
   * {@link Storage}. {@code where} names the source in errors (file and record).
   */
  static Object load(String where, byte[] pickle, Function<Tuple, Storage> persistentLoad) {
    return new WeightsOnlyUnpickler(where, pickle, persistentLoad).run();
  }

  private Object run() {
    while (true) {
      if (!in.hasRemaining()) throw error("the pickle ends without STOP (truncated)");
      opAt = in.position();
      int op = in.get() & 0xff;
      switch (op) {
        case 0x80 -> { // PROTO
          int proto = u8();
          if (proto > 5) throw error("pickle protocol " + proto + " is unknown");
        }
        case '.' -> { // STOP
          return pop();
        }
        case '(' -> { // MARK
          metastack.add(stack);
          stack = new ArrayList<>();
        }
        case '}' -> push(new LinkedHashMap<>());
        case ']' -> push(new ArrayList<>());
        case ')' -> push(new Tuple(List.of()));
        case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
        case 't' -> push(new Tuple(popMark()));
        case 0x85 -> push(new Tuple(List.of(pop())));
        case 0x86 -> {
          Object b = pop(), a = pop();
          push(new Tuple(java.util.Arrays.asList(a, b)));
        }
        case 0x87 -> {
          Object c = pop(), b = pop(), a = pop();
          push(new Tuple(java.util.Arrays.asList(a, b, c)));
        }
        case 'J' -> push((long) need(4).getInt()); // BININT
        case 'K' -> push((long) u8()); // BININT1
        case 'M' -> push((long) (need(2).getShort() & 0xffff)); // BININT2
        case 0x8a -> push(long1()); // LONG1
        case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(need(8).getLong()))); // BINFLOAT, big-endian
        case 'N' -> push(null);
        case 0x88 -> push(Boolean.TRUE);
        case 0x89 -> push(Boolean.FALSE);
        case 'X' -> push(utf8(bytes(need(4).getInt() & 0xffffffffL))); // BINUNICODE
        case 'U' -> push(bytes(u8())); // SHORT_BINSTRING (bytes: torch reads with encoding "bytes")
        case 'q' -> put(u8()); // BINPUT
        case 'r' -> put(need(4).getInt() & 0xffffffffL); // LONG_BINPUT
        case 'h' -> get(u8()); // BINGET
        case 'j' -> get(need(4).getInt() & 0xffffffffL); // LONG_BINGET
        case 'c' -> push(global(line(), line())); // GLOBAL
        case 'R' -> reduce();
        case 'b' -> build();
        case 0x81 -> newobj();
        case 's' -> {
          Object v = pop(), k = pop();
          dict(top()).put(key(k), v);
        }
        case 'u' -> {
          List<Object> items = popMark();
          if (items.size() % 2 != 0) throw error("SETITEMS with an odd number of items");
          Map<Object, Object> d = dict(top());
          for (int i = 0; i < items.size(); i += 2) d.put(key(items.get(i)), items.get(i + 1));
        }
        case 'a' -> {
          Object item = pop();
          list(top()).add(item);
        }
        case 'e' -> {
          List<Object> items = popMark();
          list(top()).addAll(items);
        }
        case 'Q' -> persistent();
        default -> throw error("opcode " + opcodeName(op) + " is not allowed in a weights file (torch.load(weights_only"
            + "=True) refuses it too); nothing from the checkpoint is run");
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ risky opcodes

  /** Admits a global by name only. */
  private Global global(String module, String name) {
    if (module.equals("__builtin__")) module = "builtins"; // Python 2 names, as torch maps them
    Global g = new Global(module, name);
    String path = g.path();
    if (admitted(g)) return g;
    if (TORCH_ONLY.contains(path) || (module.equals("torch._utils") && name.startsWith("_rebuild_"))
        || (STORAGE_MODULES.contains(module) && (name.endsWith("Storage") || name.endsWith("Tensor")))
        || (module.equals("torch") && name.startsWith("complex")))
      throw error("global " + path + " is a tensor kind sr4g does not read (sparse, quantized, meta, complex, subclass"
          + " or typed tensor classes); save the weights as plain dense tensors or as safetensors");
    throw error("global " + printable(path) + " is not allowed: a weights file may only hold tensors, storages and"
        + " plain containers (torch.load(weights_only=True) refuses it too); nothing from the checkpoint is run");
  }

  private static boolean admitted(Global g) {
    return switch (g.path()) {
      case "collections.OrderedDict", "collections.Counter", "torch._utils._rebuild_tensor",
          "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_parameter",
          "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2",
          "torch.nn.parameter.Parameter", "torch.Tensor", "torch.Size", "_codecs.encode", "builtins.set",
          "builtins.bytearray", "torch.storage.UntypedStorage" -> true;
      default -> (STORAGE_MODULES.contains(g.module()) && TorchDType.ofStorageClass(g.name()) != null)
          || (g.module().equals("torch") && TorchDType.ofDtypeName(g.name()) != null);
    };
  }

  private void reduce() {
    Object args = pop();
    Object f = top();
    if (!(f instanceof Global g)) throw error("REDUCE on " + describe(f) + ", which is not a function");
    if (!(args instanceof Tuple a)) throw error("REDUCE of " + g.path() + " with arguments that are not a tuple");
    stack.set(stack.size() - 1, call(g, a));
  }

  /** What sr4g makes of an admitted function applied to {@code a}: data, never a call. */
  private Object call(Global g, Tuple a) {
    return switch (g.path()) {
      case "collections.OrderedDict", "collections.Counter" -> {
        Map<Object, Object> d = g.name().equals("OrderedDict") ? new OrderedDict() : new LinkedHashMap<>();
        if (a.size() > 1) throw error(g.path() + " takes at most one argument, got " + a.size());
        if (a.size() == 1 && a.get(0) != null) {
          if (!(a.get(0) instanceof List<?> pairs)) throw error(g.path() + " of " + describe(a.get(0)));
          for (Object p : pairs) {
            if (!(p instanceof Tuple t && t.size() == 2) && !(p instanceof List<?> l && l.size() == 2))
              throw error(g.path() + " expects (key, value) pairs, got " + describe(p));
            List<?> kv = p instanceof Tuple t ? t.items() : (List<?>) p;
            d.put(key(kv.get(0)), kv.get(1));
          }
        }
        yield d;
      }
      case "torch._utils._rebuild_tensor" -> tensor(a, 4, 4, null);
      case "torch._utils._rebuild_tensor_v2" -> tensor(a, 6, 7, null);
      case "torch._utils._rebuild_tensor_v3" -> {
        if (a.size() < 7 || !(a.get(6) instanceof Global dt) || TorchDType.ofDtypeName(dt.name()) == null)
          throw error("_rebuild_tensor_v3 needs a dense dtype as its 7th argument, got " + a);
        yield tensor(a, 7, 8, TorchDType.ofDtypeName(dt.name()));
      }
      case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
        if (a.size() < 3 || !(a.get(0) instanceof TensorView t)) throw error(g.path() + " of " + describe(a));
        yield t;
      }
      case "torch._tensor._rebuild_from_type_v2" -> {
        if (a.size() != 4 || !(a.get(0) instanceof Global fn) || !(a.get(1) instanceof Global type)
            || !(a.get(2) instanceof Tuple args))
          throw error("_rebuild_from_type_v2 expects (function, type, args, state), got " + describe(a));
        if (!type.path().equals("torch.Tensor") && !type.path().equals("torch.nn.parameter.Parameter"))
          throw error("tensor subclass " + type.path() + " is not supported");
        Object r = call(fn, args);
        if (!(r instanceof TensorView)) throw error("_rebuild_from_type_v2 did not rebuild a tensor");
        yield r;
      }
      case "torch.Size" -> {
        if (a.size() != 1 || !(a.get(0) instanceof Tuple t)) throw error("torch.Size of " + describe(a));
        yield t;
      }
      case "_codecs.encode" -> {
        if (a.size() != 2 || !(a.get(0) instanceof String s) || !(a.get(1) instanceof String enc)
            || !(enc.equals("latin1") || enc.equals("latin-1")))
          throw error("_codecs.encode is only read as encode(str, 'latin1') (bytes), got " + describe(a));
        byte[] out = new byte[s.length()];
        for (int i = 0; i < out.length; i++) {
          if (s.charAt(i) > 0xff) throw error("_codecs.encode: character outside latin-1");
          out[i] = (byte) s.charAt(i);
        }
        yield out;
      }
      case "builtins.set" -> {
        Set<Object> set = new LinkedHashSet<>();
        if (a.size() == 1 && a.get(0) instanceof List<?> l) for (Object o : l) set.add(key(o));
        else if (a.size() != 0) throw error("set of " + describe(a));
        yield set;
      }
      case "builtins.bytearray" -> {
        if (a.size() == 0) yield new byte[0];
        if (a.size() == 1 && a.get(0) instanceof byte[] b) yield b.clone();
        throw error("bytearray of " + describe(a));
      }
      default -> throw error("REDUCE of " + g.path() + " is not supported (only tensors, parameters and containers"
          + " are rebuilt)");
    };
  }

  /**
   * {@code _rebuild_tensor[_v2|_v3](storage, storage_offset, size, stride, ...)}: the view is checked against its
   * storage here, before anything is read.
   */
  private TensorView tensor(Tuple a, int min, int max, TorchDType v3dtype) {
    if (a.size() < min || a.size() > max) throw error("tensor rebuild with " + a.size() + " arguments");
    if (!(a.get(0) instanceof Storage s)) throw error("a tensor's storage must come from a persistent id, got " + describe(a.get(0)));
    long offset = integer(a.get(1), "storage_offset");
    long[] size = longs(a.get(2), "size"), stride = longs(a.get(3), "stride");
    if (size.length != stride.length) throw error("tensor size " + java.util.Arrays.toString(size) + " and stride "
        + java.util.Arrays.toString(stride) + " differ in length");
    if (a.size() > 4 && !(a.get(4) instanceof Boolean)) throw error("requires_grad must be a bool, got " + describe(a.get(4)));
    if (a.size() > 5 && !(a.get(5) instanceof Map<?, ?> hooks && hooks.isEmpty()))
      throw error("tensors with backward hooks are not supported");
    if (v3dtype != null && v3dtype != s.dtype()) {
      // _rebuild_tensor_v3 over an untyped (byte) storage: the same bytes seen as v3dtype elements.
      if (s.dtype() != TorchDType.UINT8 || s.numel() % v3dtype.bytes != 0)
        throw error("_rebuild_tensor_v3 as " + v3dtype + " over a " + s.dtype() + " storage");
      s = new Storage(s.key(), v3dtype, s.numel() / v3dtype.bytes, s.location());
    }
    TensorView t = new TensorView(s, offset, size, stride);
    check(t);
    return t;
  }

  /** Every element the view addresses lies inside its storage; memory stays bounded by the storage (no stride-0 blow-up). */
  private void check(TensorView t) {
    if (t.offset() < 0) throw error(t + ": negative storage offset");
    long numel;
    long last = t.offset();
    try {
      numel = 1;
      for (int d = 0; d < t.size().length; d++) {
        if (t.size()[d] < 0 || t.stride()[d] < 0) throw error(t + ": negative size or stride");
        numel = Math.multiplyExact(numel, t.size()[d]);
      }
      if (numel > 0)
        for (int d = 0; d < t.size().length; d++) last = Math.addExact(last, Math.multiplyExact(t.size()[d] - 1, t.stride()[d]));
    } catch (ArithmeticException e) {
      throw error(t + ": size × stride overflows");
    }
    if (numel > 0 && last >= t.storage().numel())
      throw error(t + " reads element " + last + " of a storage of " + t.storage().numel() + " elements (out of range)");
    if (numel == 0 && t.offset() > t.storage().numel())
      throw error(t + ": storage offset past the end of its storage of " + t.storage().numel() + " elements");
    if (numel > Math.max(1, t.storage().numel()))
      throw error(t + " has " + numel + " elements but its storage only " + t.storage().numel()
          + " (stride-0 broadcast views are not supported)");
  }

  private void newobj() {
    Object args = pop();
    Object cls = pop();
    if (!(cls instanceof Global g) || !g.path().equals("torch.nn.parameter.Parameter"))
      throw error("NEWOBJ of " + describe(cls) + ": only torch.nn.Parameter may be created");
    if (!(args instanceof Tuple a) || a.size() < 1 || !(a.get(0) instanceof TensorView t))
      throw error("Parameter created from " + describe(args) + ", not a tensor");
    push(t);
  }

  private void build() {
    Object state = pop();
    Object inst = top();
    if (inst instanceof OrderedDict) {
      if (!(state instanceof Map<?, ?>) && state != null && !(state instanceof Tuple))
        throw error("BUILD of an OrderedDict with " + describe(state));
      return; // attributes such as a state dict's _metadata: not needed to read the tensors
    }
    if (inst instanceof TensorView && (state == null || state instanceof Map<?, ?> m && m.isEmpty()
        || state instanceof Tuple t && t.size() == 0))
      return;
    throw error("BUILD on " + describe(inst) + " with " + describe(state)
        + ": only OrderedDicts and plain tensors may be built");
  }

  private void persistent() {
    Object pid = pop();
    if (!(pid instanceof Tuple t) || t.size() == 0) throw error("persistent id must be a tuple, got " + describe(pid));
    Object kind = t.get(0) instanceof byte[] b ? new String(b, StandardCharsets.ISO_8859_1) : t.get(0);
    if (!"storage".equals(kind)) throw error("only storages may be persistent ids, got " + describe(t.get(0)));
    push(persistentLoad.apply(t));
  }

  // ---------------------------------------------------------------------------------------------------- helpers

  private long integer(Object o, String what) {
    if (o instanceof Long l) return l;
    throw error(what + " must be an integer, got " + describe(o));
  }

  private long[] longs(Object o, String what) {
    if (!(o instanceof Tuple t)) throw error(what + " must be a tuple of integers, got " + describe(o));
    if (t.size() > 64) throw error(what + " has " + t.size() + " dimensions");
    long[] out = new long[t.size()];
    for (int i = 0; i < out.length; i++) out[i] = integer(t.get(i), what);
    return out;
  }

  private Object key(Object k) {
    if (k == null || k instanceof String || k instanceof Long || k instanceof Boolean || k instanceof Double
        || k instanceof Tuple || k instanceof Global)
      return k;
    throw error("unhashable dictionary key " + describe(k));
  }

  @SuppressWarnings("unchecked")
  private Map<Object, Object> dict(Object o) {
    if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
    throw error("SETITEM on " + describe(o) + ", which is not a dict");
  }

  @SuppressWarnings("unchecked")
  private List<Object> list(Object o) {
    if (o instanceof ArrayList<?> l) return (List<Object>) l;
    throw error("APPEND on " + describe(o) + ", which is not a list");
  }

  private void push(Object o) {
    stack.add(o);
  }

  private Object pop() {
    if (stack.isEmpty()) throw error("stack underflow");
    return stack.remove(stack.size() - 1);
  }

  private Object top() {
    if (stack.isEmpty()) throw error("stack underflow");
    return stack.get(stack.size() - 1);
  }

  private List<Object> popMark() {
    if (metastack.isEmpty()) throw error("no MARK to pop to");
    List<Object> items = stack;
    stack = metastack.remove(metastack.size() - 1);
    return items;
  }

  private void put(long index) {
    memo.put(index, top());
  }

  private void get(long index) {
    if (!memo.containsKey(index)) throw error("memo index " + index + " was never stored");
    push(memo.get(index));
  }

  private int u8() {
    return need(1).get() & 0xff;
  }

  /** The buffer positioned for a read of {@code n} bytes, or a truncation error. */
  private ByteBuffer need(int n) {
    if (in.remaining() < n) throw error("truncated: needs " + n + " more bytes");
    return in;
  }

  private byte[] bytes(long n) {
    if (n > in.remaining()) throw error("truncated: a " + n + "-byte string with " + in.remaining() + " bytes left");
    byte[] b = new byte[(int) n];
    in.get(b);
    return b;
  }

  private Long long1() {
    int n = u8();
    byte[] b = bytes(n);
    if (n == 0) return 0L;
    byte[] be = new byte[n];
    for (int i = 0; i < n; i++) be[i] = b[n - 1 - i];
    BigInteger v = new BigInteger(be);
    if (v.bitLength() > 63) throw error("integer " + v + " does not fit 64 bits");
    return v.longValue();
  }

  private String utf8(byte[] b) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
    } catch (CharacterCodingException e) {
      throw error("a string is not valid UTF-8");
    }
  }

  private String line() {
    StringBuilder s = new StringBuilder();
    while (true) {
      if (!in.hasRemaining()) throw error("truncated GLOBAL name");
      int c = in.get() & 0xff;
      if (c == '\n') return s.toString();
      if (c < 0x20 || c > 0x7e || s.length() >= MAX_LINE) throw error("GLOBAL name is not a short printable line");
      s.append((char) c);
    }
  }

  private static String describe(Object o) {
    if (o == null) return "None";
    if (o instanceof Global g) return g.path();
    if (o instanceof String s) return "'" + printable(s) + "'";
    if (o instanceof Tuple t) return "a " + t.size() + "-tuple";
    if (o instanceof TensorView t) return t.toString();
    if (o instanceof byte[] b) return b.length + " bytes";
    return "a " + o.getClass().getSimpleName();
  }

  private static String printable(String s) {
    String p = s.replaceAll("[^\\x20-\\x7e]", "?");
    return p.length() > 100 ? p.substring(0, 100) + "…" : p;
  }

  private static String opcodeName(int op) {
    String name = switch (op) {
      case 'i' -> "INST";
      case 'o' -> "OBJ";
      case 0x93 -> "STACK_GLOBAL";
      case 0x92 -> "NEWOBJ_EX";
      case 0x82, 0x83, 0x84 -> "EXT";
      case 'P' -> "PERSID";
      case 0x95 -> "FRAME";
      case 0x94 -> "MEMOIZE";
      case 0x8c -> "SHORT_BINUNICODE";
      case 'B', 'C', 0x8e -> "BINBYTES";
      case 'S' -> "STRING";
      case 'V' -> "UNICODE";
      case 'I', 'L', 'F' -> "text number";
      case 'p', 'g' -> "text PUT/GET";
      default -> null;
    };
    String hex = String.format("0x%02x", op);
    return name == null ? hex : name + " (" + hex + ")";
  }

  private UserInputException error(String what) {
    return new UserInputException(where + " byte " + opAt + ": " + what);
  }
}

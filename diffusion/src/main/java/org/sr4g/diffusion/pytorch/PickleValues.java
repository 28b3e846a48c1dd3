package org.sr4g.diffusion.pytorch;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The plain Java values {@link WeightsOnlyUnpickler} builds from a checkpoint's pickle: {@code null}, {@link Boolean},
 * {@link Long}, {@link Double}, {@link String}, {@code byte[]}, {@link java.util.ArrayList} (list),
 * {@link java.util.LinkedHashMap} (dict), {@link java.util.LinkedHashSet} (set), and the records below. None of them
 * can run code: an allowed global is only ever a name ({@link Global}).
 */
final class PickleValues {
  private PickleValues() {}

  /** A Python tuple. */
  record Tuple(List<Object> items) {
    Tuple {
      items = List.copyOf(java.util.Collections.unmodifiableList(new java.util.ArrayList<>(items)));
    }

    int size() {
      return items.size();
    }

    Object get(int i) {
      return items.get(i);
    }
  }

  /** A global the allow-list admitted, by name only ({@code module.name}). */
  record Global(String module, String name) {
    String path() {
      return module + "." + name;
    }
  }

  /** {@code collections.OrderedDict} (a dict that BUILD may set attributes on, e.g. a state dict's _metadata). */
  static final class OrderedDict extends LinkedHashMap<Object, Object> {
    private static final long serialVersionUID = 1L;
  }

  /** A storage named by a persistent id: record {@code data/<key>} holding {@code numel} elements of {@code dtype}. */
  record Storage(String key, TorchDType dtype, long numel, String location) {}

  /** A tensor view of a storage ({@code _rebuild_tensor_v2}): element offset, sizes and strides in elements. */
  record TensorView(Storage storage, long offset, long[] size, long[] stride) {
    long numel() {
      long n = 1;
      for (long s : size) n = Math.multiplyExact(n, s);
      return n;
    }

    /** True when the elements are the storage's elements offset..offset+numel-1 in row-major order. */
    boolean contiguous() {
      long expected = 1;
      for (int d = size.length - 1; d >= 0; d--) {
        if (size[d] != 1 && stride[d] != expected) return false;
        expected *= size[d];
      }
      return true;
    }

    @Override
    public String toString() {
      return "tensor(" + storage.dtype() + ", size " + Arrays.toString(size) + ", stride " + Arrays.toString(stride)
          + ", offset " + offset + ", storage '" + storage.key() + "')";
    }
  }
}

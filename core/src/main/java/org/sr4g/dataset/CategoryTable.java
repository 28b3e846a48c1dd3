package org.sr4g.dataset;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.sr4g.UserInputException;
import org.sr4g.coco.CocoDataset;

/**
 * The categories of the train and eval inputs together, by id. A category id must carry the same name in every input;
 * dense indices follow id order and are what triplet keys and statistics use.
 */
public final class CategoryTable {
  final int[] ids;
  final String[] names;

  private CategoryTable(int[] ids, String[] names) {
    this.ids = ids;
    this.names = names;
  }

  public static CategoryTable merge(List<CocoDataset> datasets) {
    TreeMap<Integer, String> all = new TreeMap<>();
    for (CocoDataset d : datasets) {
      for (int c = 0; c < d.categoryCount(); c++) {
        String prev = all.putIfAbsent(d.categoryId(c), d.categoryName(c));
        if (prev != null && !prev.equals(d.categoryName(c))) {
          throw new UserInputException(
              "category id " + d.categoryId(c) + " is \"" + prev + "\" in one input and \"" + d.categoryName(c) + "\" in "
                  + d.sources());
        }
      }
    }
    Set<String> seen = new HashSet<>();
    for (String n : all.values()) {
      if (!seen.add(n)) throw new UserInputException("category name \"" + n + "\" is used by two different ids");
    }
    int[] ids = all.keySet().stream().mapToInt(Integer::intValue).toArray();
    return new CategoryTable(ids, all.values().toArray(new String[0]));
  }

  /** COCO category ids, ascending; position = dense index. */
  public int[] ids() {
    return ids.clone();
  }

  public String[] names() {
    return names.clone();
  }

  public int size() {
    return ids.length;
  }

  public int indexOfName(String name) {
    for (int i = 0; i < names.length; i++) if (names[i].equals(name)) return i;
    return -1;
  }

  /** Maps a dataset's dense category index to this table's. */
  public int[] mapping(CocoDataset d) {
    int[] m = new int[d.categoryCount()];
    for (int c = 0; c < m.length; c++) m[c] = java.util.Arrays.binarySearch(ids, d.categoryId(c));
    return m;
  }
}

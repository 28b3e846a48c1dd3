package org.sr4g.coco;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The 80 COCO 2017 object categories, exactly as in the {@code categories} array of {@code instances_train2017.json}
 * and {@code instances_val2017.json} (same order, same non-contiguous ids 1..90, same names and supercategories),
 * plus the number of instance annotations of each category in train2017 (860,001 in all over 118,287 images;
 * iscrowd annotations included). The counts are useful as frequency weights, e.g. for synthetic data.
 */
public final class CocoCategories {
  private CocoCategories() {}

  /** One COCO category: its id, name and supercategory as in the JSON, and its train2017 instance count. */
  public record Category(int id, String name, String supercategory, int train2017Instances) {}

  /** Total number of instance annotations in train2017 (the sum of {@link Category#train2017Instances()}). */
  public static final int TRAIN2017_INSTANCES = 860_001;

  /** Number of images in train2017. */
  public static final int TRAIN2017_IMAGES = 118_287;

  private static final List<Category> ALL =
      List.of(
          new Category(1, "person", "person", 262465),
          new Category(2, "bicycle", "vehicle", 7113),
          new Category(3, "car", "vehicle", 43867),
          new Category(4, "motorcycle", "vehicle", 8725),
          new Category(5, "airplane", "vehicle", 5135),
          new Category(6, "bus", "vehicle", 6069),
          new Category(7, "train", "vehicle", 4571),
          new Category(8, "truck", "vehicle", 9973),
          new Category(9, "boat", "vehicle", 10759),
          new Category(10, "traffic light", "outdoor", 12884),
          new Category(11, "fire hydrant", "outdoor", 1865),
          new Category(13, "stop sign", "outdoor", 1983),
          new Category(14, "parking meter", "outdoor", 1285),
          new Category(15, "bench", "outdoor", 9838),
          new Category(16, "bird", "animal", 10806),
          new Category(17, "cat", "animal", 4768),
          new Category(18, "dog", "animal", 5508),
          new Category(19, "horse", "animal", 6587),
          new Category(20, "sheep", "animal", 9509),
          new Category(21, "cow", "animal", 8147),
          new Category(22, "elephant", "animal", 5513),
          new Category(23, "bear", "animal", 1294),
          new Category(24, "zebra", "animal", 5303),
          new Category(25, "giraffe", "animal", 5131),
          new Category(27, "backpack", "accessory", 8720),
          new Category(28, "umbrella", "accessory", 11431),
          new Category(31, "handbag", "accessory", 12354),
          new Category(32, "tie", "accessory", 6496),
          new Category(33, "suitcase", "accessory", 6192),
          new Category(34, "frisbee", "sports", 2682),
          new Category(35, "skis", "sports", 6646),
          new Category(36, "snowboard", "sports", 2685),
          new Category(37, "sports ball", "sports", 6347),
          new Category(38, "kite", "sports", 9076),
          new Category(39, "baseball bat", "sports", 3276),
          new Category(40, "baseball glove", "sports", 3747),
          new Category(41, "skateboard", "sports", 5543),
          new Category(42, "surfboard", "sports", 6126),
          new Category(43, "tennis racket", "sports", 4812),
          new Category(44, "bottle", "kitchen", 24342),
          new Category(46, "wine glass", "kitchen", 7913),
          new Category(47, "cup", "kitchen", 20650),
          new Category(48, "fork", "kitchen", 5479),
          new Category(49, "knife", "kitchen", 7770),
          new Category(50, "spoon", "kitchen", 6165),
          new Category(51, "bowl", "kitchen", 14358),
          new Category(52, "banana", "food", 9458),
          new Category(53, "apple", "food", 5851),
          new Category(54, "sandwich", "food", 4373),
          new Category(55, "orange", "food", 6399),
          new Category(56, "broccoli", "food", 7308),
          new Category(57, "carrot", "food", 7852),
          new Category(58, "hot dog", "food", 2918),
          new Category(59, "pizza", "food", 5821),
          new Category(60, "donut", "food", 7179),
          new Category(61, "cake", "food", 6353),
          new Category(62, "chair", "furniture", 38491),
          new Category(63, "couch", "furniture", 5779),
          new Category(64, "potted plant", "furniture", 8652),
          new Category(65, "bed", "furniture", 4192),
          new Category(67, "dining table", "furniture", 15714),
          new Category(70, "toilet", "furniture", 4157),
          new Category(72, "tv", "electronic", 5805),
          new Category(73, "laptop", "electronic", 4970),
          new Category(74, "mouse", "electronic", 2262),
          new Category(75, "remote", "electronic", 5703),
          new Category(76, "keyboard", "electronic", 2855),
          new Category(77, "cell phone", "electronic", 6434),
          new Category(78, "microwave", "appliance", 1673),
          new Category(79, "oven", "appliance", 3334),
          new Category(80, "toaster", "appliance", 225),
          new Category(81, "sink", "appliance", 5610),
          new Category(82, "refrigerator", "appliance", 2637),
          new Category(84, "book", "indoor", 24715),
          new Category(85, "clock", "indoor", 6334),
          new Category(86, "vase", "indoor", 6613),
          new Category(87, "scissors", "indoor", 1481),
          new Category(88, "teddy bear", "indoor", 4793),
          new Category(89, "hair drier", "indoor", 198),
          new Category(90, "toothbrush", "indoor", 1954));

  private static final List<String> NAMES = ALL.stream().map(Category::name).toList();

  private static final Map<Integer, Category> BY_ID;
  private static final Map<String, Category> BY_NAME;

  static {
    Map<Integer, Category> byId = new TreeMap<>();
    Map<String, Category> byName = new TreeMap<>();
    for (Category c : ALL) {
      byId.put(c.id(), c);
      byName.put(c.name(), c);
    }
    BY_ID = Collections.unmodifiableMap(byId);
    BY_NAME = Collections.unmodifiableMap(byName);
  }

  /** The 80 categories in COCO's order (ascending id). */
  public static List<Category> all() {
    return ALL;
  }

  /** The 80 names in COCO's order (ascending id), e.g. for VISOR's SR2D prompt set. */
  public static List<String> names() {
    return NAMES;
  }

  public static Optional<Category> byId(int id) {
    return Optional.ofNullable(BY_ID.get(id));
  }

  public static Optional<Category> byName(String name) {
    return Optional.ofNullable(BY_NAME.get(name));
  }
}

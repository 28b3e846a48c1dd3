package org.sr4g.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.sr4g.UserInputException;

/**
 * The box table: one row per box, see docs/scale-out.md. Two extra optional columns keep what a COCO file says
 * verbatim ({@code bbox_json}: the bbox's JSON text, written to the output as is) and rows without a box declare an
 * image without boxes ({@code annotation_id} null) or a category ({@code image_id} null), so that a table converted
 * from COCO by {@code sr4g export-boxes} gives exactly what {@code sr4g generate} gives on the COCO file.
 */
public final class BoxColumns {
  private BoxColumns() {}

  public static final String IMAGE_ID = "image_id";
  public static final String BOXES = "boxes";

  /** The canonical schema, in this order; index constants below follow it (image_id excluded in the box struct). */
  public static final StructType SCHEMA =
      new StructType(
          new StructField[] {
            field("image_id", DataTypes.LongType),
            field("file_name", DataTypes.StringType),
            field("width", DataTypes.DoubleType),
            field("height", DataTypes.DoubleType),
            field("annotation_id", DataTypes.LongType),
            field("category", DataTypes.StringType),
            field("category_id", DataTypes.LongType),
            field("x", DataTypes.DoubleType),
            field("y", DataTypes.DoubleType),
            field("w", DataTypes.DoubleType),
            field("h", DataTypes.DoubleType),
            field("iscrowd", DataTypes.IntegerType),
            field("score", DataTypes.DoubleType),
            field("bbox_json", DataTypes.StringType)
          });

  static final List<String> REQUIRED =
      List.of("image_id", "file_name", "width", "height", "annotation_id", "category", "category_id", "x", "y", "w", "h", "iscrowd");
  static final List<String> OPTIONAL = List.of("score", "bbox_json");

  // Positions inside the per-image box struct (the schema minus image_id).
  static final int FILE_NAME = 0, WIDTH = 1, HEIGHT = 2, ANNOTATION_ID = 3, CATEGORY = 4, CATEGORY_ID = 5, X = 6, Y = 7,
      W = 8, H = 9, ISCROWD = 10, SCORE = 11, BBOX_JSON = 12;

  private static StructField field(String name, DataType t) {
    return DataTypes.createStructField(name, t, true);
  }

  /** The box struct type (every column but image_id). */
  static StructType boxStruct() {
    return new StructType(Arrays.copyOfRange(SCHEMA.fields(), 1, SCHEMA.fields().length));
  }

  /**
   * A table with one row per image: {@code image_id} and {@code boxes}, an array of structs with the box columns;
   * file_name, width and height may be top-level columns instead of struct fields. Each image must be in one row
   * (not checked: that would need the shuffle this layout avoids).
   */
  static Dataset<Row> normalizeNested(Dataset<Row> raw, String inputName) {
    StructType top = raw.schema();
    DataType bt = top.apply(BOXES).dataType();
    if (!(bt instanceof org.apache.spark.sql.types.ArrayType)
        || !(((org.apache.spark.sql.types.ArrayType) bt).elementType() instanceof StructType)) {
      throw new UserInputException(inputName + ": column boxes must be an array of structs, not " + bt.simpleString());
    }
    StructType inner = (StructType) ((org.apache.spark.sql.types.ArrayType) bt).elementType();
    List<String> innerNames = Arrays.asList(inner.fieldNames()), topNames = Arrays.asList(top.fieldNames());
    List<String> missing = new ArrayList<>();
    if (!topNames.contains(IMAGE_ID)) missing.add(IMAGE_ID);
    for (String c : REQUIRED) if (!c.equals(IMAGE_ID) && !innerNames.contains(c) && !topNames.contains(c)) missing.add(c);
    if (!missing.isEmpty()) throw new UserInputException(inputName + ": nested box table lacks field(s) " + String.join(", ", missing));
    StructField[] fields = boxStruct().fields();
    Column boxes =
        org.apache.spark.sql.functions.transform(
            col(BOXES),
            b -> {
              Column[] cs = new Column[fields.length];
              for (int i = 0; i < fields.length; i++) {
                StructField f = fields[i];
                Column c =
                    innerNames.contains(f.name())
                        ? b.getField(f.name())
                        : topNames.contains(f.name()) ? col(f.name()) : lit(null);
                cs[i] = c.cast(f.dataType()).as(f.name());
              }
              return org.apache.spark.sql.functions.struct(cs);
            });
    return raw.select(col(IMAGE_ID).cast(DataTypes.LongType).as(IMAGE_ID), boxes.as(BOXES));
  }

  /**
   * Selects the canonical columns in canonical order and types; a missing required column is a user error naming the
   * input, a missing optional one becomes null.
   */
  static Dataset<Row> normalize(Dataset<Row> raw, String inputName) {
    List<String> have = Arrays.asList(raw.columns());
    List<String> missing = new ArrayList<>();
    for (String c : REQUIRED) if (!have.contains(c)) missing.add(c);
    if (!missing.isEmpty()) {
      throw new UserInputException(inputName + ": box table lacks column(s) " + String.join(", ", missing) + " (has " + String.join(", ", have) + ")");
    }
    List<Column> cols = new ArrayList<>();
    for (StructField f : SCHEMA.fields()) {
      Column c = have.contains(f.name()) ? col(f.name()).cast(f.dataType()) : lit(null).cast(f.dataType());
      cols.add(c.as(f.name()));
    }
    return raw.select(cols.toArray(new Column[0]));
  }
}

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Rewrites a jar's pre-Java-6 class files (major version below 50) as Java 8 class files, with stack maps, so that
 * the JDK's ahead-of-time cache can hold them: it refuses such "old classes" once linked, and picocli ships as Java 5
 * bytecode, so ~180 of its classes were loaded and verified from the jar at every start (docs/generate-speed.md).
 * The code is re-emitted unchanged; only the version and the stack map frames the new verifier needs are added.
 * Each rewritten class is checked with the class-file verifier, and a class that fails keeps its original bytes.
 *
 * <p>Run by scripts/aot-cache.sh with the JDK's source launcher: {@code java scripts/UpgradeOldClasses.java JAR} rewrites
 * JAR in place (through a temporary file and a rename) and prints one line.
 */
public final class UpgradeOldClasses {
  private static final int OLD = 50, TARGET = 52;

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: java UpgradeOldClasses.java JAR");
      System.exit(2);
    }
    Path jar = Path.of(args[0]);
    Path tmp = jar.resolveSibling(jar.getFileName() + ".upgrading");
    int upgraded = 0, kept = 0;
    try (URLClassLoader classes = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
        ZipFile in = new ZipFile(jar.toFile());
        ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(tmp))) {
      // Stack maps name the common supertypes of merged values: resolved from the JDK, then from the jar itself.
      ClassHierarchyResolver resolver =
          ClassHierarchyResolver.defaultResolver().orElse(ClassHierarchyResolver.ofResourceParsing(classes));
      ClassFile cf = ClassFile.of(
          ClassFile.StackMapsOption.GENERATE_STACK_MAPS, ClassFile.ClassHierarchyResolverOption.of(resolver));
      for (Enumeration<? extends ZipEntry> e = in.entries(); e.hasMoreElements(); ) {
        ZipEntry entry = e.nextElement();
        byte[] bytes = in.getInputStream(entry).readAllBytes();
        if (entry.getName().endsWith(".class")) {
          byte[] newer = upgrade(cf, bytes);
          if (newer != null && cf.verify(newer).isEmpty()) {
            bytes = newer;
            upgraded++;
          } else if (newer != null) {
            kept++;
          }
        }
        ZipEntry copy = new ZipEntry(entry.getName());
        copy.setTime(entry.getTime());
        out.putNextEntry(copy);
        out.write(bytes);
        out.closeEntry();
      }
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    System.out.println("old classes: " + upgraded + " rewritten as Java " + (TARGET - 44) + " bytecode"
        + (kept > 0 ? ", " + kept + " kept as they were (the verifier refused the rewrite)" : ""));
  }

  /** The class as version {@value #TARGET} with its code re-emitted (stack maps generated), or null when not old. */
  private static byte[] upgrade(ClassFile cf, byte[] bytes) {
    ClassModel model = cf.parse(bytes);
    if (model.majorVersion() >= OLD) return null;
    return cf.transformClass(model, ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
        .andThen(ClassTransform.dropping(element -> element instanceof ClassFileVersion))
        .andThen(ClassTransform.endHandler(builder -> builder.withVersion(TARGET, 0))));
  }
}

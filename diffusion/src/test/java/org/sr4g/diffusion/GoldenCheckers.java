package org.sr4g.diffusion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.Map;
import java.util.TreeMap;

/**
 * The registry of golden checkers: every concrete {@link GoldenChecker} class in the package
 * {@value #PACKAGE} of the test class path (a directory: {@code target/test-classes}).
 */
public final class GoldenCheckers {
  static final String PACKAGE = "org.sr4g.diffusion.golden";

  private GoldenCheckers() {}

  /** Kind → checker. Fails if two checkers claim the same kind. */
  public static Map<String, GoldenChecker> discover() {
    Map<String, GoldenChecker> byKind = new TreeMap<>();
    ClassLoader cl = GoldenCheckers.class.getClassLoader();
    try {
      Enumeration<URL> roots = cl.getResources(PACKAGE.replace('.', '/'));
      while (roots.hasMoreElements()) {
        URL url = roots.nextElement();
        if (!url.getProtocol().equals("file")) continue; // test classes are a directory under surefire
        try (var files = Files.list(Path.of(url.toURI()))) {
          for (Path p : files.sorted().toList()) {
            String f = p.getFileName().toString();
            if (!f.endsWith(".class") || f.contains("$")) continue;
            Class<?> c = Class.forName(PACKAGE + "." + f.substring(0, f.length() - ".class".length()), false, cl);
            if (!GoldenChecker.class.isAssignableFrom(c) || c.isInterface() || Modifier.isAbstract(c.getModifiers())) continue;
            GoldenChecker checker = (GoldenChecker) c.getDeclaredConstructor().newInstance();
            GoldenChecker previous = byKind.put(checker.kind(), checker);
            if (previous != null)
              throw new IllegalStateException("two golden checkers for kind '" + checker.kind() + "': "
                  + previous.getClass().getName() + " and " + c.getName());
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException | ReflectiveOperationException e) {
      throw new IllegalStateException("cannot load golden checkers from " + PACKAGE + ": " + e, e);
    }
    return byKind;
  }
}

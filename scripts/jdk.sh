# Sourced by ./sr4g, ./run-tests and .ci/run: points JAVA_HOME at a JDK 25.
# The machine's default java may be 17; Temurin 25 usually sits in /usr/lib/jvm.
sr4g_find_jdk() {
  local v
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ "${v%%.*}" -ge 25 ] 2>/dev/null; then return 0; fi
  fi
  for d in /usr/lib/jvm/temurin-25* /usr/lib/jvm/java-25* /usr/lib/jvm/jdk-25* /usr/lib/jvm/*; do
    [ -x "$d/bin/javac" ] || continue
    v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ "${v%%.*}" -ge 25 ] 2>/dev/null; then export JAVA_HOME="$d"; return 0; fi
  done
  if command -v java >/dev/null; then
    v=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ "${v%%.*}" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"; return 0
    fi
  fi
  echo "sr4g: no JDK 25 found. Install one (e.g. apt-get install temurin-25-jdk) or set JAVA_HOME." >&2
  return 1
}

# Sourced by ./sr4g, ./run-tests and .ci/run: points JAVA_HOME at a JDK 25.
# The machine's default java may be 17; Temurin 25 usually sits in /usr/lib/jvm.
# The version comes from the JDK's `release` file: starting a JVM just to ask costs ~0.3 s of CPU on every ./sr4g
# (a JDK without that file is asked the old way).
sr4g_jdk_major() { # JDK_HOME -> its major version, or nothing
  local v=""
  [ -f "$1/release" ] && v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release")
  [ -n "$v" ] || v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  echo "${v%%.*}"
}

sr4g_find_jdk() {
  local v h
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(sr4g_jdk_major "$JAVA_HOME")
    if [ "$v" -ge 25 ] 2>/dev/null; then return 0; fi
  fi
  for d in /usr/lib/jvm/temurin-25* /usr/lib/jvm/java-25* /usr/lib/jvm/jdk-25* /usr/lib/jvm/*; do
    [ -x "$d/bin/javac" ] || continue
    v=$(sr4g_jdk_major "$d")
    if [ "$v" -ge 25 ] 2>/dev/null; then export JAVA_HOME="$d"; return 0; fi
  done
  if command -v java >/dev/null; then
    h="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    v=$(sr4g_jdk_major "$h")
    if [ "$v" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$h"; return 0
    fi
  fi
  echo "sr4g: no JDK 25 found. Install one (e.g. apt-get install temurin-25-jdk) or set JAVA_HOME." >&2
  return 1
}

#!/usr/bin/env bash
# Creates the CLI's ahead-of-time cache (JDK 25: JEP 483 class loading and linking, JEP 514 one-step creation, JEP 515
# method profiles) from a training run, AotTraining: synth + generate on small inputs. First it rewrites the jar's
# Java 5 class files (picocli) as Java 8 ones, which the cache can hold (scripts/UpgradeOldClasses.java). Maven runs it when it packages
# the CLI (cli/pom.xml); ./sr4g then starts the JVM with -XX:AOTCache when the cache is newer than the jar and was made
# by the same JVM (the .jvm file beside it), and without it otherwise.
#
#   scripts/aot-cache.sh JAVA JAR CACHE
#
# The cache is an optimisation: any failure prints one SKIP line and exits 0 (./sr4g then runs without it).
# The JVM flags must be the launcher's (a cache made with other module options is not used).
set -uo pipefail
java="$1"; jar="$2"; cache="$3"
rm -f "$cache" "$cache.jvm"
if [ -n "${SR4G_NO_AOT:-}" ]; then echo "SKIP AOT cache: SR4G_NO_AOT is set"; exit 0; fi
scratch="$(mktemp -d "${TMPDIR:-/tmp}/sr4g-aot.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
log="$scratch/training.log"
# picocli is Java 5 bytecode, which the cache refuses: rewrite such classes as Java 8 ones first (stack maps added,
# code unchanged, each rewrite verified). A failure leaves the jar as it was.
if ! "$java" "$(dirname "$0")/UpgradeOldClasses.java" "$jar" > "$scratch/upgrade.log" 2>&1; then
  echo "SKIP old-class rewrite (the cache will not hold picocli's classes): $(tail -1 "$scratch/upgrade.log")"
else
  cat "$scratch/upgrade.log"
fi
if "$java" -XX:AOTCacheOutput="$cache" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx2g \
    -cp "$jar" org.sr4g.cli.AotTraining "$scratch/work" > "$log" 2>&1 && [ -s "$cache" ]; then
  # Two lines: the JVM's version (for people) and its path, the last line, which ./sr4g compares with its java.
  { "$java" -version 2>&1 | head -2 | tr '\n' ' '; echo; echo "$java"; } > "$cache.jvm"
  echo "AOT cache: $cache ($(du -h "$cache" | cut -f1))"
else
  echo "SKIP AOT cache: the training run failed (the CLI works without it); its log:"
  tail -5 "$log"
  rm -f "$cache" "$cache.jvm"
fi
exit 0

#!/usr/bin/env bash
# scripts/fuzz.sh TARGET MINUTES: fuzzes one target of fuzz/ (Coco, CocoScan, Safetensors, Prompts, Detections, TrainJsonl,
# CacheIndex, Tokenizer, TripletsCsv, PyTorchCheckpoint: the class name without FuzzTest) with Jazzer for MINUTES minutes.
#
# The run starts from the committed seeds (fuzz/src/test/resources/org/sr4g/fuzz/<Target>FuzzTestInputs/fuzz) and
# keeps what it finds in fuzz/target/fuzz/<Target>/corpus; a finding (any exception but UserInputException, a message
# that is not one clean line, OutOfMemoryError past the small heap, an input slower than the timeout) stops it and is
# written to fuzz/target/fuzz/<Target>/ as crash-*/timeout-*. Add a finding to the seeds once it is fixed: the normal
# build replays every seed as a regression test. The last lines (libFuzzer's final stats) give executions and coverage.
# scripts/fuzz.sh TARGET merge: adds to the seeds a smallest set of working-corpus inputs covering every edge they
# reach (libFuzzer's -set_cover_merge=1, hit counts ignored), which keeps the committed corpus small.
#
# Environment: FUZZ_HEAP (default 512m: an input that needs more is a finding), FUZZ_TIMEOUT (seconds per input,
# default 60: the first input also loads and instruments the parser classes; the final stats give the slowest input), FUZZ_MAX_LEN (bytes per input, default 16384), FUZZ_SKIP_BUILD=1 (use the classes already built), FUZZ_KEEP_GOING=N (go on past N-1 distinct findings).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ]; then
  echo "usage: scripts/fuzz.sh TARGET MINUTES   (targets: $(find fuzz/src/test/java -name '*FuzzTest.java' -printf '%f\n' | sed 's/FuzzTest.java$//' | sort | tr '\n' ' '))" >&2
  exit 2
fi
target="$1"
minutes="$2"
# A target is fuzz/src/test/java/<package>/<Target>FuzzTest.java: most in org.sr4g.fuzz, some (CocoScan) in the package
# of the package-private classes they check.
src=$(find fuzz/src/test/java -name "${target}FuzzTest.java" | head -1)
[ -n "$src" ] || { echo "fuzz.sh: no target $target" >&2; exit 2; }
pkgdir=$(dirname "${src#fuzz/src/test/java/}")
cls="$(echo "$pkgdir" | tr '/' '.').${target}FuzzTest"
. scripts/jdk.sh
sr4g_find_jdk
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
  PATH="$JAVA_HOME/bin:$PATH" ./mvnw -B -q -ntp -pl fuzz -am test-compile -DskipTests >&2
fi
work="fuzz/target/fuzz/$target"
seeds="fuzz/src/test/resources/$pkgdir/${target}FuzzTestInputs/fuzz"
mkdir -p "$work/corpus" "$seeds"
# A private copy of the module classes: rebuilding the tree while a long run goes on must not change what it loads.
snap="$work/classes"
rm -rf "$snap" && mkdir -p "$snap"
cpath=""
for e in fuzz/target/test-classes $(tr ':' ' ' < fuzz/target/fuzz.classpath); do
  case "$e" in
    */target/classes|*/target/test-classes) d="$snap/$(echo "$e" | tr '/' '_')"; cp -r "$e" "$d"; cpath="$cpath:$d" ;;
    *) cpath="$cpath:$e" ;;
  esac
done
jvm=("$JAVA_HOME/bin/java" -Xmx"${FUZZ_HEAP:-512m}" -Xss4m -XX:+EnableDynamicAgentLoading -XX:-OmitStackTraceInFastThrow
  --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "${cpath#:}" com.code_intelligence.jazzer.Jazzer)
if [ "$minutes" = merge ]; then
  # libFuzzer's merge runs its inner pass as a child process named by argv[0], "jazzer": give it one.
  mkdir -p "$work/bin"
  printf '#!/bin/sh\nexec %s "$@"\n' "$(printf '%q ' "${jvm[@]}")" > "$work/bin/jazzer"
  chmod +x "$work/bin/jazzer"
  export PATH="$PWD/$work/bin:$PATH"
  set -- -set_cover_merge=1 -use_counters=0 "$seeds" "$work/corpus"
else
  set -- -max_total_time="$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')" "$work/corpus" "$seeds"
fi
# Instrument sr4g and Jackson's streaming parsers (JSON, CSV), which sr4g's readers drive; not jackson-databind, whose
# instrumentation alone outlasted the timeout of the first input on a loaded 2-core machine.
exec "${jvm[@]}" \
  --target_class="$cls" --target_method=fuzz \
  --instrumentation_includes='org.sr4g.**:com.fasterxml.jackson.core.**:com.fasterxml.jackson.dataformat.**' \
  --reproducer_path="$work" --keep_going="${FUZZ_KEEP_GOING:-1}" \
  -artifact_prefix="$work/" -timeout="${FUZZ_TIMEOUT:-60}" \
  -max_len="${FUZZ_MAX_LEN:-16384}" -print_final_stats=1 -rss_limit_mb=4096 "$@"

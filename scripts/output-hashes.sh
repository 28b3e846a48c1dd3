#!/usr/bin/env bash
# SHA-256 of every file `generate`, `spark-generate`, `export-boxes` and `synth` write for fixed inputs, one line
# per file, so that two builds can be compared with diff (the refactorings of issues 12 and 15 promise identical
# bytes). manifest.json is hashed without its "run" block (threads, JVM, timings describe the run, not the data);
# spark-generate's row partitions are hashed as their sorted lines (Spark's part files come in no fixed order).
#
#   scripts/output-hashes.sh HASHES.txt [WORKDIR]     # WORKDIR default /tmp/sr4g-output-hashes (~4 GB while running)
#   SKIP_SPARK=1 scripts/output-hashes.sh HASHES.txt  # generate and synth only
#
# Inputs: ../shared/coco/tiny (80 + 80 real COCO images), `sr4g synth --images 20000 --seed 0` (train) and
# `--images 2000 --seed 1` (eval); both --emit modes; the built-in sample (`sr4g generate` without inputs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
hashes="$(realpath -m "${1:?usage: output-hashes.sh HASHES.txt [WORKDIR]}")"
work="${2:-/tmp/sr4g-output-hashes}"
tiny="${SR4G_SHARED:-$root/../shared}/coco/tiny/annotations"
sr4g="$root/sr4g"
rm -rf "$work" && mkdir -p "$work"
: > "$hashes"
cd "$work"

record() { # label, file
  local h
  case "$2" in
    *manifest.json) h=$(jq -S 'del(.run)' "$2" | sha256sum | cut -d' ' -f1) ;;
    *) h=$(sha256sum "$2" | cut -d' ' -f1) ;;
  esac
  echo "$h  $1" >> "$hashes"
}

record_dir() { # label, dir: every regular file except the marker
  local f
  while IFS= read -r f; do record "$1/${f#./}" "$2/$f"; done < <(cd "$2" && find . -type f ! -name .sr4g-output | LC_ALL=C sort)
}

record_spark() { # label, dir: small files as they are, rows as sorted lines per split
  local f s
  for f in prompts_val.jsonl prompts_test.jsonl prompts_test_unseen.jsonl triplets.csv stats.json manifest.json; do
    record "$1/$f" "$2/$f"
  done
  for s in seen unseen; do
    if [ -d "$2/train/split=$s" ]; then
      cat "$2/train/split=$s"/part-* | LC_ALL=C sort > "$work/sorted.txt"
    else
      : > "$work/sorted.txt"
    fi
    record "$1/train/split=$s (sorted lines)" "$work/sorted.txt"
  done
  rm -f "$work/sorted.txt"
}

spark() { # train, eval, emit, out (Spark's log shown only when the job fails)
  "$sr4g" spark-generate --master 'local[2]' --train "$1" --eval "$2" --emit "$3" --out "$4" > spark.log 2>&1 || { cat spark.log >&2; exit 1; }
}

"$sr4g" synth --images 20000 --seed 0 --out synth20k.json > /dev/null
"$sr4g" synth --images 2000 --seed 1 --out synth2k.json > /dev/null
record synth20k.json synth20k.json
record synth2k.json synth2k.json

"$sr4g" generate -q --out sample > /dev/null
record_dir builtin-sample sample && rm -rf sample

for emit in one all; do
  "$sr4g" generate -q --train "$tiny/instances_train2017.json" --eval "$tiny/instances_val2017.json" --emit "$emit" --out "tiny-$emit" > /dev/null
  record_dir "generate/tiny/emit-$emit" "tiny-$emit" && rm -rf "tiny-$emit"
  "$sr4g" generate -q --train synth20k.json --eval synth2k.json --emit "$emit" --out "s20k-$emit" > /dev/null
  record_dir "generate/synth20k/emit-$emit" "s20k-$emit" && rm -rf "s20k-$emit"
done

if [ -z "${SKIP_SPARK:-}" ]; then
  "$sr4g" export-boxes --coco "$tiny/instances_train2017.json" --out tiny-train.jsonl > /dev/null
  "$sr4g" export-boxes --coco "$tiny/instances_val2017.json" --out tiny-val.jsonl > /dev/null
  "$sr4g" export-boxes --coco synth20k.json --out s20k-train.jsonl > /dev/null
  "$sr4g" export-boxes --coco synth2k.json --out s2k-val.jsonl > /dev/null
  for f in tiny-train.jsonl tiny-val.jsonl s20k-train.jsonl s2k-val.jsonl; do record "export-boxes/$f" "$f"; done
  for emit in one all; do
    spark tiny-train.jsonl tiny-val.jsonl "$emit" "sp-tiny-$emit"
    record_spark "spark-generate/tiny/emit-$emit" "sp-tiny-$emit" && rm -rf "sp-tiny-$emit"
    spark s20k-train.jsonl s2k-val.jsonl "$emit" "sp-s20k-$emit"
    record_spark "spark-generate/synth20k/emit-$emit" "sp-s20k-$emit" && rm -rf "sp-s20k-$emit"
  done
fi
cd / && rm -rf "$work"
echo "$(wc -l < "$hashes") files hashed into $hashes"

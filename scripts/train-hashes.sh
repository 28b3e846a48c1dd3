#!/usr/bin/env bash
# SHA-256 of every file that short CPU `sr4g train` runs write on the tiny random model, to check that a refactoring of
# the trainer or of the `train` command changes no output byte (issue 12). Timing fields (step_time_ms, data_wait_ms)
# are dropped from metrics.jsonl before hashing; nothing else is filtered.
#   [SR4G=path/to/launcher] scripts/train-hashes.sh [WORKDIR]   (default /tmp/sr4g-train-hashes; the same path before and after: the cache's
#                                        index.json records the paths it was built from)
# Prints "sha256  path" lines sorted by path; compare two outputs with diff.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
work="${1:-/tmp/sr4g-train-hashes}"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
launcher="${SR4G:-$root/sr4g}"
sr4g() { "$launcher" "$@" > /dev/null; }
sr4g init-model --out tiny-model
sr4g sample --model tiny-model --prompt "a cat to the left of a dog" --images-per-prompt 2 --steps 4 --width 64 --height 64 --out images
cat > train.jsonl <<'EOF'
{"file_name": "0_0.png", "caption": "a cat to the left of a dog", "relation": "left of"}
{"file_name": "0_1.png", "caption": "a dog to the right of a cat", "relation": "right of"}
EOF
common=(--model tiny-model --resolution 32 --batch-size 2 --quiet)
sr4g train "${common[@]}" --data train.jsonl --images images --out run-plain --max-steps 5
sr4g cache --model tiny-model --data train.jsonl --images images --out cache --resolution 32
sr4g train "${common[@]}" --cache cache --out run-cached --max-steps 5 --caption-dropout 0.5
sr4g train "${common[@]}" --data train.jsonl --images images --out run-bf16 --max-steps 5 --mixed-precision bf16
# EMA with a checkpoint every step, stopped at 3 and resumed to 5; validation grids every 2 steps
sr4g train "${common[@]}" --data train.jsonl --images images --out run-ema --max-steps 3 --ema --checkpoint-every 1 \
  --checkpoints-limit 2 --validation-prompts "a dog above a cat" --validation-every 2 --validation-steps 2
sr4g train "${common[@]}" --data train.jsonl --images images --out run-ema --max-steps 5 --ema --checkpoint-every 1 \
  --checkpoints-limit 2 --validation-prompts "a dog above a cat" --validation-every 2 --validation-steps 2 --resume latest
# every loss option at once: v-prediction, Min-SNR, noise offset, cosine warmup, accumulation, text encoder, flips
sr4g train "${common[@]}" --data train.jsonl --images images --out run-loss --max-steps 4 --prediction-type v_prediction \
  --snr-gamma 5 --noise-offset 0.1 --lr-scheduler cosine --lr-warmup-steps 2 --grad-accum 2 --train-text-encoder \
  --text-encoder-lr 2e-5 --random-flip --random-crop --caption-sampling per-image --caption-dropout 0.3 --lr 1e-4 \
  --gradient-checkpointing --max-grad-norm 0.5
# the diffusers flag names
sr4g train --pretrained_model_name_or_path tiny-model --resolution 32 --train_batch_size 2 --quiet --data train.jsonl \
  --images images --output_dir run-aliases --max_train_steps 3 --snr_gamma 1 --use_ema --learning_rate 1e-4
for f in run-*/metrics.jsonl; do
  sed -E 's/,"step_time_ms":[0-9.]+,"data_wait_ms":[0-9.]+//' "$f" > "$f.notime"
done
find run-* cache -type f ! -name metrics.jsonl -print0 | sort -z | xargs -0 sha256sum

#!/usr/bin/env bash
# Fine-tunes the shipped default weights for compressed footage (issue 21): the same data and crops as
# scripts/train_default.sh, each input clip through a random chain of x264 encodes (CRF 18-35), Gaussian noise
# and mild blur (`--degrade`, tpstvsr_cli/training/degradations.py); the joint stage restarted at lr 2e-4, on the
# `compressed` preset (the default's network without the neighbour fusion's back-projection onto the input).
# Session 10 (the shipped weights): from step 14292, joint stage planned at 2400 steps, cut to 1600 and then 1000
# (steps ran at 0.1-0.3 per second on 2 shared cores) on the default preset; from step 14754 (stage step 462) on
# the compressed preset (--resume --model compressed), 1200 steps planned, lr x0.2 at 600 and 960.
# Usage: [MINUTES=120] scripts/train_compressed.sh [--resume] [more train options]
# The weights: runs/compressed/release.safetensors (fp16, written with every checkpoint), shipped as
# weights/tpstvsr-compressed.safetensors; quick val in runs/compressed/train.log (clean and x264:crf=28:fps=12).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
mkdir -p runs/compressed
export OMP_WAIT_POLICY=PASSIVE
export GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736
INIT="--init-from weights/tpstvsr-default.safetensors --restart-stage"
case " $* " in *" --resume "*) INIT="" ;; esac
nohup nice -n 19 python -m tpstvsr_cli train "$DATA/train" --run-dir runs/compressed --model compressed $INIT --degrade \
  --stage-steps 1500,1000,1200 --batch 4 --crop 128 --max-stride 3 --crop-tries 4 --lr 2e-4 \
  --cache-dir "${CACHE:-$HOME/.cache/tpstvsr/frames}" --max-minutes "${MINUTES:-120}" \
  --val "$DATA/val/bedroom" --val "$DATA/val/youtubevos_1001_3iEIq5HBY1s" --val "$DATA/val/youtubevos_1007_YCTBBdbKSSg" \
  --val-every 100 --ckpt-minutes 10 --release runs/compressed/release.safetensors "$@" >> runs/compressed/train.log 2>&1 &
echo "training in the background (pid $!); log: runs/compressed/train.log"

#!/usr/bin/env bash
# Scores release weights on the validation data as issue 2's bar asks, plus the held-out VFI triplets.
# Usage: [QUALITY=fast|balanced|best] [ENSEMBLE=2] [PRECISION=fp32|bf16|auto] [DEGRADE=SPEC] [TRIPLETS=0]
#        scripts/eval_release.sh [WEIGHTS] [OUT_DIR]
# (tables on stdout, JSON in OUT_DIR; ENSEMBLE unset: the quality's, 2 for best, else 1; PRECISION unset: auto;
# DEGRADE: the degraded-input track, e.g. DEGRADE=x264:crf=23:fps=12; TRIPLETS=0 leaves out the held-out triplets;
# MAX_FRAMES=65 TRIPLETS=0 is a 2.5-minute "mid val" for choosing between settings: bedroom's first 65 frames,
# both youtubevos whole, as in docs/design-keyframes.md §10)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-weights/tpstvsr-default.safetensors}
OUT=${2:-runs/eval}
E="--quality ${QUALITY:-balanced}${ENSEMBLE:+ --ensemble $ENSEMBLE} --precision ${PRECISION:-auto}${DEGRADE:+ --degrade $DEGRADE}"
E="$E${MAX_FRAMES:+ --max-frames $MAX_FRAMES}"
VAL=${VAL:-../shared/data/val}
mkdir -p "$OUT"
export GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736
python -m tpstvsr_cli eval "$VAL/bedroom" --weights "$W" $E --json > "$OUT/bedroom.json"
python -m tpstvsr_cli eval "$VAL/youtubevos_1001_3iEIq5HBY1s" "$VAL/youtubevos_1007_YCTBBdbKSSg" --gt-scale 0.5 \
  --weights "$W" $E --json > "$OUT/youtubevos.json"
if [ "${TRIPLETS:-1}" = 0 ]; then
  python scripts/summarize_eval.py "$OUT/bedroom.json" "$OUT/youtubevos.json"
  exit 0
fi
python scripts/triplet_sequences.py "$VAL/vfi_triplets" /tmp/tpstvsr-triplets > /dev/null
python -m tpstvsr_cli eval /tmp/tpstvsr-triplets/* --weights "$W" $E --json > "$OUT/triplets.json"
python scripts/summarize_eval.py "$OUT/bedroom.json" "$OUT/youtubevos.json" --held-out "$OUT/triplets.json"

#!/usr/bin/env bash
# The compressed-restore experiment (issue 21, session 17; not shipped): the default network, frozen, after an
# artifact removal (models/artifact_removal.py) trained in two phases on the 2 CPU cores:
#   phase1: alone, at the input's size, on (degraded, clean) low-res pairs of whole training clips, each through a
#           random chain of training/degradations.py (x264 CRF 18-35, noise, blur), mean squared error to the
#           clean frames (scripts/make_restore_set.py, scripts/train_restore.py), then attached to the default
#           weights (scripts/attach_module.py). Session 17: 2,174 steps (stopped by hand, lr still 8.8e-4).
#   phase2: through the frozen network (`tpstvsr train --train-only restore --degrade`): the output's loss against
#           the ground truth. Session 17: steps 14292-15080 in 50 minutes (0.25-0.39 steps per second).
# Usage: [PHASE1_MINUTES=75] [MINUTES=50] scripts/train_compressed_restore.sh phase1|phase2 [--resume]
# Results in weights/README.md (the compressed card); phase 2's weights: runs/compressed-restore/release.safetensors.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
PHASE=${1:?phase1 or phase2}
shift
mkdir -p runs/compressed-restore runs/restore
export OMP_WAIT_POLICY=PASSIVE
export GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736
if [ "$PHASE" = phase1 ]; then
  python scripts/make_restore_set.py "$DATA/train" runs/restore/set2 --frames 80 --copies 4 > runs/restore/set2.log
  python scripts/train_restore.py runs/restore/set2 runs/restore/r1 --minutes "${PHASE1_MINUTES:-75}" --steps 9000 "$@"
  python scripts/attach_module.py weights/tpstvsr-default.safetensors restore runs/restore/r1/restore.pt \
    runs/restore/w-def-r1.safetensors --preset compressed-restore
  exit 0
fi
INIT="--init-from runs/restore/w-def-r1.safetensors --restart-stage"
case " $* " in *" --resume "*) INIT="" ;; esac
nohup python -m tpstvsr_cli train "$DATA/train" --run-dir runs/compressed-restore --model compressed-restore $INIT \
  --degrade --train-only restore --stage-steps 1500,1000,1500 --batch 4 --crop 128 --max-stride 3 --crop-tries 4 \
  --lr 2e-4 --cache-dir "${CACHE:-$HOME/.cache/tpstvsr/frames}" --max-minutes "${MINUTES:-50}" \
  --val "$DATA/val/bedroom" --val "$DATA/val/youtubevos_1001_3iEIq5HBY1s" --val "$DATA/val/youtubevos_1007_YCTBBdbKSSg" \
  --val-every 200 --ckpt-minutes 10 --release runs/compressed-restore/release.safetensors "$@" \
  >> runs/compressed-restore/train.log 2>&1 &
echo "training in the background (pid $!); log: runs/compressed-restore/train.log"

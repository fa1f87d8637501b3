#!/usr/bin/env bash
# Trains (or, with --resume, continues) the shipped default model on the CPU in the background.
# Usage: scripts/train_default.sh [--resume] [--max-minutes N]
# History of the shipped weights (the schedule changed while they trained): steps 0-5670 used batch 8 of 64x64
# crops and a 12000-step joint stage; from step 5670 batch 4 of 128x128 crops (16x16 input crops were too small
# for the motions in val), at step 5937 the joint stage was shortened to 8000 steps so its lr drops sooner; from
# step 6394 the in-between frames start from the motion-compensated base (models/motion.py; its per-block search
# from step 6570), and at step 6472 the joint stage was set to 10000 steps so the network adapts to that base at
# the high lr. From step 8002 (session 4) the preset warps its in-between frames from the super-resolved key frames
# (models/keyframe_interp.py), so the joint loss trains through that forward; stopped at step 9290 (joint 6790).
# Session 6 restarted the joint stage from step 9290 with texture-biased crops (--crop-tries 4) at lr 2e-4:
#   --init-from weights/tpstvsr-default.safetensors --restart-stage --stage-steps 1500,1000,4400 --lr 2e-4
# and stopped at step 12778 (joint 3488). --crop-tries is on by default here from then.
# Then --crop-tries 8 at lr 1e-4 to step 14292 (shipped). Session 7 tried --detail-power 1 on top (4600 steps from
# 14292): full val unchanged (model card), so it is not in this command.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
mkdir -p runs/default
# PASSIVE: with other processes on the same 2 cores, spinning OpenMP threads made steps 8x slower.
export OMP_WAIT_POLICY=PASSIVE
export GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736
nohup python -m tpstvsr_cli train "$DATA/train" --run-dir runs/default --model default \
  --stage-steps 1500,1000,10000 --batch 4 --crop 128 --max-stride 3 --crop-tries 4 --lr 4e-4 --cache-dir "${CACHE:-$HOME/.cache/tpstvsr/frames}" \
  --val "$DATA/val/bedroom" --val "$DATA/val/youtubevos_1001_3iEIq5HBY1s" --val "$DATA/val/youtubevos_1007_YCTBBdbKSSg" \
  --val-every 250 --ckpt-minutes 10 --release runs/default/release.safetensors "$@" >> runs/default/train.log 2>&1 &
echo "training in the background (pid $!); log: runs/default/train.log"

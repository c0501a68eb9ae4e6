#!/usr/bin/env bash
# The articulation model v1.7 candidate, one command (session 13): tools/train_articulation_v16.sh's data
# with session 8's 1-LSB dither consistency and a gentle fine-tune; checkpoint by the session-8 rule.
#
#   tools/train_articulation_v17.sh [MINUTES]        (default 14; one CPU thread, seeded)
#
# Result (benchmarks/results/lipsync_neural_v16_v17_candidates.md): step 263 better than v1.2 on every quality
# figure, but a 1-LSB dither tail on one LJ line (0.11-0.18, bar 0.05): not shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
MIN=${1:-14}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
python tools/artic_train.py from-onnx --onnx models/articulation.onnx --out-ckpt v12.pt
python tools/artic_real.py --more
python tools/artic_train.py data --real2-copies 10 --twin
python tools/artic_train.py train --init v12.pt --keep-norm --minutes "$MIN" --lr 3e-4 \
    --false-round-weight 3 --ckpt-every 2 --cons-weight 1 --tag v17_ \
    --share '{"real": 0.16, "real2:vctk": 0.2, "real2:fleurs": 0.1, "real2:more": 0.16, "espeak": 0.28, "rest": 0.1}'
python tools/artic_ckpt_choose.py --ckpts "$(cd build/artic && ls v17_ck_*.pt | paste -sd,)" --dither-draws 5 \
    --out build/artic/choose17.json

#!/usr/bin/env bash
# The articulation model v1.9 candidate, one command (session 14): v1.7's data and recipe
# (tools/train_articulation_v17.sh) with the 1-LSB dither consistency trained harder (weight 3 on 32 rows) on
# a fresh dither-like pair every step (--cons-fresh 2: the stored twin's log-mel change re-signed and scaled),
# after v1.8 (the stored twin, weight 3) stayed touchy on dev. Checkpoint by the session-14 rule.
#
#   tools/train_articulation_v19.sh [MINUTES]        (default 14; one CPU thread, seeded)
set -euo pipefail
cd "$(dirname "$0")/.."
MIN=${1:-14}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
[ -f build/artic/v12.pt ] || python tools/artic_train.py from-onnx --onnx models/articulation.onnx --out-ckpt v12.pt
if [ -z "${SKIP_DATA:-}" ]; then
    python tools/artic_real.py --more
    python tools/artic_train.py data --real2-copies 10 --twin
fi
python tools/artic_train.py train --init v12.pt --keep-norm --minutes "$MIN" --lr 3e-4 \
    --false-round-weight 3 --ckpt-every 2 --cons-weight 3 --cons-rows 32 --cons-fresh 2 --tag v19_ \
    --share '{"real": 0.16, "real2:vctk": 0.2, "real2:fleurs": 0.1, "real2:more": 0.16, "espeak": 0.28, "rest": 0.1}'

#!/usr/bin/env bash
# Session 14's articulation candidates, one command each (benchmarks/results/lipsync_neural_v18_v22_candidates.md):
# v1.7's data and recipe (tools/train_articulation_v17.sh) with the 1-LSB dither consistency trained harder,
# after v1.7 failed only on a dither tail and the mouthPress spread. None was eligible; v1.2 stays in models/.
#
#   tools/train_articulation_s14.sh VARIANT [MINUTES]   (default 14; one CPU thread, seeded; SKIP_DATA=1 reuses build/artic)
#
#   v18  from v1.2, lr 3e-4, consistency weight 3 on 32 rows (the stored twin)
#   v19  v18 + --cons-fresh 2 (the twin's log-mel change re-signed per element and scaled U(1, 2), fresh every step)
#   v20  v19's loss polished from v1.7 step 263 (needs build/artic/v17_ck_00263.pt) at lr 1e-4
#   v21  v20 with the contact event loss doubled (--event-weight 0.6)
#   v22  v21 with more rest windows (rest 0.10 -> 0.14, espeak-ng 0.28 -> 0.24)
# Checkpoint: tools/artic_ckpt_choose.py --rule s14 --dither-draws 10 --ckpts "$(cd build/artic && ls VARIANT_ck_*.pt | paste -sd,)"
set -euo pipefail
cd "$(dirname "$0")/.."
V=${1:?"usage: $0 v18|v19|v20|v21|v22 [MINUTES]"}
MIN=${2:-14}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
INIT=v12.pt LR=3e-4 EXTRA=() ESPEAK=0.28 REST=0.1
case "$V" in
    v18) ;;
    v19) EXTRA=(--cons-fresh 2) ;;
    v20) INIT=v17_ck_00263.pt LR=1e-4 EXTRA=(--cons-fresh 2) ;;
    v21) INIT=v17_ck_00263.pt LR=1e-4 EXTRA=(--cons-fresh 2 --event-weight 0.6) ;;
    v22) INIT=v17_ck_00263.pt LR=1e-4 EXTRA=(--cons-fresh 2 --event-weight 0.6) ESPEAK=0.24 REST=0.14 ;;
    *) echo "unknown variant $V (v18|v19|v20|v21|v22)" >&2; exit 2 ;;
esac
if [ "$INIT" = v12.pt ]; then
    [ -f build/artic/v12.pt ] || python tools/artic_train.py from-onnx --onnx models/articulation.onnx --out-ckpt v12.pt
elif [ ! -f "build/artic/$INIT" ]; then
    echo "needs build/artic/$INIT: run tools/train_articulation_v17.sh" >&2; exit 2
fi
if [ -z "${SKIP_DATA:-}" ]; then
    python tools/artic_real.py --more
    python tools/artic_train.py data --real2-copies 10 --twin
fi
python tools/artic_train.py train --init "$INIT" --keep-norm --minutes "$MIN" --lr "$LR" \
    --false-round-weight 3 --ckpt-every 2 --cons-weight 3 --cons-rows 32 "${EXTRA[@]}" --tag "${V}_" \
    --share "{\"real\": 0.16, \"real2:vctk\": 0.2, \"real2:fleurs\": 0.1, \"real2:more\": 0.16, \"espeak\": $ESPEAK, \"rest\": $REST}"

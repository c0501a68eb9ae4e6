#!/usr/bin/env bash
# The articulation model v2.2 candidate, one command (session 14): v1.7's data and recipe
# (tools/train_articulation_v17.sh) polished from v1.7's step 263 (the quality candidate) with v1.9's fresh
# dither consistency (weight 3 on 32 rows, --cons-fresh 2) at lr 1e-4: v1.9 from v1.2 lowered the dither but
# lost f/v on dev; v2.1 = v2.0 with the contact event loss doubled (v2.0 lost one f/v event of ~24 on dev). v2.2 = v2.1 with more rest windows (rest 0.14, espeak 0.24: v2.1 opened the mouth on music). Needs v17_ck_00263.pt (tools/train_articulation_v17.sh). Checkpoint by the session-14 rule.
#
#   tools/train_articulation_v22.sh [MINUTES]        (default 14; one CPU thread, seeded)
set -euo pipefail
cd "$(dirname "$0")/.."
MIN=${1:-14}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
[ -f build/artic/v17_ck_00263.pt ] || { echo "needs build/artic/v17_ck_00263.pt: run tools/train_articulation_v17.sh" >&2; exit 2; }
if [ -z "${SKIP_DATA:-}" ]; then
    python tools/artic_real.py --more
    python tools/artic_train.py data --real2-copies 10 --twin
fi
python tools/artic_train.py train --init v17_ck_00263.pt --keep-norm --minutes "$MIN" --lr 1e-4 \
    --false-round-weight 3 --ckpt-every 2 --cons-weight 3 --cons-rows 32 --cons-fresh 2 --tag v22_ --event-weight 0.6 \
    --share '{"real": 0.16, "real2:vctk": 0.2, "real2:fleurs": 0.1, "real2:more": 0.16, "espeak": 0.24, "rest": 0.14}'

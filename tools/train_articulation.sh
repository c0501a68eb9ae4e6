#!/usr/bin/env bash
# The articulation model v1.2, one command (session 5): more real voices, fine-tuned from v1.1.
#
#   tools/train_articulation.sh [MINUTES]        (default 48; one CPU thread, seeded)
#
# 1. tools/artic_real.py    VCTK (102 speakers, held-out test speakers excluded) + FLEURS dev half
#                           -> transcript-path phones (build/artic/real_train.json)
# 2. artic_train.py data    espeak-ng 20 languages + the 4 old real voices + step 1 + rest clips,
#                           augmented -> build/artic/{train,val}.npz
# 3. artic_train.py train   from v1.1's checkpoint (build/artic/ck_00958.pt = models/articulation.onnx
#                           sha fc9a1f1c), its feature normalisation kept, false-rounding penalty x3
# 4. export + calibrate     into build/artic/cand_v12 (a candidate: EMOANIM_MODELS=build/artic/cand_v12
#                           python benchmarks/lipsync_neural.py ...); copy to models/ only if it measures better
#
# Needs: pip install torch==2.13.0 onnx (the pinned local CPU wheel), espeak-ng, the mirrors of
# github:RichardSterry/msc-project, github:sebastian-software/cuttledoc, github:espeak-ng/espeak-ng
# under /work/.mirror (tools/artic_heldout.py / artic_real.py / artic_train.py --espeak-src).
set -euo pipefail
cd "$(dirname "$0")/.."
MIN=${1:-48}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
python tools/artic_real.py
python tools/artic_train.py data --real2-copies 10
python tools/artic_train.py train --init ck_00958.pt --keep-norm --minutes "$MIN" --lr 1e-3 \
    --false-round-weight 3 --ckpt-every 8
python tools/artic_train.py export --out-dir build/artic/cand_v12
python tools/artic_train.py calibrate --out-dir build/artic/cand_v12

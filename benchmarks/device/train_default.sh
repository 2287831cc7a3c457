#!/usr/bin/env bash
# Train the `default` preset on a lent GPU in one `device` call (benchmarks/device/README.md):
# install the carried wheels, write the synthetic pairs with every core, train until the
# call's budget is nearly spent, and export the generators with their cards to $OUT.
# Everything is set by environment variables; the defaults fit one 600 s call on an H100.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)

OUT=${OUT:?give OUT, the folder the results go to (the device tool sets it)}
WORK=${WORK:-/tmp/magnetogan-gpu}
DEVICE=${DEVICE:-cuda}
BUDGET_S=${BUDGET_S:-540}          # the whole script, in seconds
DATA_S=${DATA_S:-210}              # writing the pairs, in seconds
RESERVE_S=${RESERVE_S:-45}         # export and copying, in seconds
SEEDS=${SEEDS:-800}
DATES_PER_SEED=${DATES_PER_SEED:-6}
WORKERS=${WORKERS:-$(nproc)}
BATCH=${BATCH:-8}
STEPS=${STEPS:-100000}
PRESET=${PRESET:-default}
WHEELS=${WHEELS:-.whl}             # carried wheels to install first; "none" to use what is installed
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" "$WORK"
say() { echo "[$(($(date +%s) - start)) s] $*" | tee -a "$OUT/device.log"; }

if [ "$WHEELS" != none ] && compgen -G "$WHEELS/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl
  export PYTHONPATH="/tmp/site:$PWD"
else
  export PYTHONPATH="$PWD"
fi
python3 - <<'PY' 2>&1 | tee -a "$OUT/device.log"
import sys, torch, sunpy, astropy, reproject
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
print(f"Python {sys.version.split()[0]}, torch {torch.__version__} ({gpu}), sunpy {sunpy.__version__}, "
      f"astropy {astropy.__version__}, reproject {reproject.__version__}")
PY
say "wheels installed"

python3 benchmarks/device/make_pairs.py "$WORK/pairs" --seeds "$SEEDS" --dates-per-seed "$DATES_PER_SEED" \
  --workers "$WORKERS" --seconds "$DATA_S" | tee "$OUT/pairs.json"
say "pairs written"

train_s=$((BUDGET_S - ($(date +%s) - start) - RESERVE_S))
if [ "$train_s" -lt 30 ]; then
  say "only ${train_s} s left for training: stopping"
  exit 1
fi
say "training for at most ${train_s} s"
python3 -m sunpy_magnetogan.cli train "$WORK/pairs" --out "$WORK/run" --preset "$PRESET" \
  --config benchmarks/device/gpu_train.toml --batch-size "$BATCH" --steps "$STEPS" --device "$DEVICE" \
  --time-limit "${train_s}s" --no-progress 2>&1 | tail -n 20 | tee -a "$OUT/device.log"
say "trained"

python3 benchmarks/device/export_run.py "$WORK/run" "$OUT" --store "$WORK/pairs" | tee -a "$OUT/device.log"
tar -czf "$OUT/run-logs.tar.gz" -C "$WORK/run" train_log.csv eval_log.csv final.json config.toml
say "exported to $OUT"

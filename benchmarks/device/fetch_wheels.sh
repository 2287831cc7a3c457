#!/usr/bin/env bash
# Download the wheels of benchmarks/device/wheels.txt into .whl/ at the repository root, for
# the device machine (Python 3.12, x86-64, no package index). Run here, before the device call.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .whl
mkdir -p .whl
grep -v '^#' benchmarks/device/wheels.txt | grep -v '^$' >.whl/requirements.txt
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any \
  -d .whl -r .whl/requirements.txt 2>&1 | { grep -v "is neither a file nor a directory" || true; }
wanted=$(wc -l <.whl/requirements.txt)
got=$(find .whl -type f -name '*.whl' | wc -l)
if [ "$got" -ne "$wanted" ]; then
  echo "expected $wanted wheels in .whl, found $got" >&2
  exit 1
fi
echo "$got wheels, $(du -sh .whl | cut -f1), in .whl"

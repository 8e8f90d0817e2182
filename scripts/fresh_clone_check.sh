#!/usr/bin/env bash
# Proves that a fresh clone passes `make test` with nothing installed by hand:
# clones the committed HEAD into a scratch folder and runs the README's test
# command there with a minimal environment (no virtualenv, no PYTHONPATH).
# Usage: scripts/fresh_clone_check.sh [PYTHON]   (default: python3)
set -euo pipefail
python=${1:-python3}
python_dir=$(dirname "$(command -v "$python")")
repo=$(git rev-parse --show-toplevel)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git clone --quiet "$repo" "$scratch/kit"
cd "$scratch/kit"
echo "fresh clone of $(git rev-parse --short HEAD) in $scratch/kit; running make test with $python"
env -i HOME="$HOME" PATH="$python_dir:/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 \
    KIT_REQUIRE_SANDBOX="${KIT_REQUIRE_SANDBOX:-}" \
    make test PYTHON="$python"

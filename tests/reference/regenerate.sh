#!/usr/bin/env bash
# Rerun the R reference cases: see tests/reference/README.md.
#   tests/reference/regenerate.sh [--check] [case ...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python}"
check=0
if [[ "${1:-}" == "--check" ]]; then check=1; shift; fi

if [[ $# -gt 0 ]]; then
  cases=("$@")
else
  cases=()
  for d in "$here"/*/; do
    name="$(basename "$d")"
    [[ "$name" == _* || "$name" == __pycache__ ]] && continue
    cases+=("$name")
  done
fi

command -v Rscript >/dev/null || { echo "regenerate.sh: Rscript not found" >&2; exit 2; }
for name in "${cases[@]}"; do
  dir="$here/$name"
  [[ -f "$dir/reference.R" ]] || { echo "regenerate.sh: $dir/reference.R missing" >&2; exit 2; }
  echo "== $name"
  (
    cd "$dir"
    if [[ -f make_data.py ]]; then "$PYTHON" make_data.py; fi
    Rscript --vanilla reference.R
  )
done

if [[ $check -eq 1 ]]; then
  cd "$here"
  git diff --exit-code --stat -- "${cases[@]}" \
    && echo "regenerate.sh: all committed fixtures reproduced"
fi

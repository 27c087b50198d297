#!/usr/bin/env bash
# A bounded cargo-fuzz run of the import reader (import_csv) and the meeting form decoder (meeting_form).
# Usage: bench/fuzz.sh [SECONDS_PER_TARGET]   (default 300). Needs cargo-fuzz (cargo install cargo-fuzz); the
# stable toolchain is used with RUSTC_BOOTSTRAP=1 for the sanitizer flags. Never run in CI.
# Crashes land in bench/fuzz/artifacts/<target>/; turn each into a regular test before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-300}"
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 1; }
export RUSTC_BOOTSTRAP=1
for target in import_csv meeting_form; do
  mkdir -p "bench/fuzz/corpus/$target"
  echo "== cargo fuzz run --fuzz-dir bench/fuzz $target -- -max_total_time=$secs -max_len=4096 -jobs=1"
  cargo fuzz run --fuzz-dir bench/fuzz "$target" -- -max_total_time="$secs" -max_len=4096 2>&1 \
    | grep -E "^(#[0-9]+ +(DONE|INITED|pulse)|Done|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)" | tail -5
done

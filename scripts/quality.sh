#!/bin/sh
# Precision and recall per health category over leakscope's own fixture suite
# (tests/fixtures/cases, written by scripts/gen-fixtures.py), and the check of
# every case's expected findings. Prints the table even when the test fails.
set -e
cd "$(dirname "$0")/.."
exec cargo test -p leakscope-detect --test fixtures_quality -- --nocapture "$@"

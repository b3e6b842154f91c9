#!/usr/bin/env bash
# Runs every fuzz target for a short, bounded time (CI). Needs a nightly toolchain: without one it
# says so and exits 0. Installs cargo-fuzz when it is missing.
#
#   bash fuzz/run-ci.sh            # 60 s per target
#   FUZZ_SECONDS=300 bash fuzz/run-ci.sh
#
# The corpus is seeded from ../shared (fuzz/make-corpus.py) when python3 and the fixtures are
# there; every committed regression input is added to it, so a known crash fails the run at once.
# A crash fails the script, with libFuzzer's report and the input left in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-60}"
targets=(server_event session client_roundtrip session_config net_answer audio_convert)

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "fuzz: SKIPPED: no nightly toolchain (rustup toolchain install nightly to run the fuzzers)"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_FUZZ:-$PWD/target}"
if command -v python3 >/dev/null 2>&1; then
    python3 make-corpus.py || echo "fuzz: no seed corpus (make-corpus.py failed); starting empty"
fi

echo "fuzz: cargo +nightly fuzz build"
cargo +nightly fuzz build

status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    if [ -d "regressions/$target" ]; then
        cp -f "regressions/$target"/* "corpus/$target/" 2>/dev/null || true
    fi
    # Session inputs are lines; the first 8 KiB of a long recording is still a session.
    extra=()
    if [ "$target" = session ]; then
        extra=(-max_len=8192)
    fi
    echo "fuzz: $target for ${seconds}s"
    # libFuzzer stops itself at -max_total_time; `timeout` is the guard if it does not.
    if ! timeout --kill-after=30 "$((seconds + 120))" \
        cargo +nightly fuzz run "$target" "corpus/$target" -- \
        -dict=realtime.dict -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${extra[@]}" 2>&1 | tail -n 25; then
        echo "fuzz: $target FAILED (see fuzz/artifacts/$target)"
        status=1
    fi
done
if [ "$status" -eq 0 ]; then
    echo "fuzz: every target ran ${seconds}s without a crash"
fi
exit "$status"

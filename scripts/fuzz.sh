#!/usr/bin/env bash
# Fuzz the native core with cargo-fuzz (libFuzzer) on the stable toolchain.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      SECONDS per target (default $FUZZ_SECONDS or 60)
#
# Installs cargo-fuzz if missing, builds every target (AddressSanitizer when the toolchain ships
# its runtime, else no sanitizer; debug assertions on), replays every file in fuzz/regressions/,
# then runs each target in turn, one process, for SECONDS, starting from the committed corpus
# fuzz/corpus/<target> (never modified: new inputs go to fuzz/target/fuzz-work/<target>).
# Prints executions per target; exits non-zero on any crash, panic, timeout or leak.
#
# Environment: FUZZ_SECONDS, FUZZ_SANITIZER (address | none), FUZZ_ARGS (extra libFuzzer flags),
# FUZZ_MINIMISE=1 (after a clean run, rewrite fuzz/corpus/<target> as the edge-coverage set cover
# of itself plus the run's new inputs: how the committed corpus is made after a long run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

secs=${FUZZ_SECONDS:-60}
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    secs=$1
    shift
fi
all_targets=()
for f in fuzz/fuzz_targets/*.rs; do
    all_targets+=("$(basename "$f" .rs)")
done
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    [[ -f fuzz/fuzz_targets/$t.rs ]] || { echo "fuzz.sh: no target '$t' (have: ${all_targets[*]})" >&2; exit 2; }
done

# The same cargo as the Makefile: rustup's when present.
if command -v rustup >/dev/null 2>&1 && rustup which cargo >/dev/null 2>&1; then
    cargo_bin=$(dirname "$(rustup which cargo)")
    export PATH="$cargo_bin:$PATH"
fi
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# cargo-fuzz passes -Z sanitizer / sancov flags: allowed on stable with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never

now() { date +%s; }

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    t0=$(now)
    cargo install cargo-fuzz --locked
    echo "== cargo-fuzz installed in $(($(now) - t0)) s"
fi

host=$(rustc -vV | sed -n 's/^host: //p')
sysroot=$(rustc --print sysroot)
if [[ -z ${FUZZ_SANITIZER:-} ]]; then
    if ls "$sysroot/lib/rustlib/$host/lib/"librustc-*_rt.asan.a >/dev/null 2>&1; then
        FUZZ_SANITIZER=address
    else
        FUZZ_SANITIZER=none
    fi
fi

echo "== building ${targets[*]} (sanitizer: $FUZZ_SANITIZER, debug assertions on)"
t0=$(now)
if [[ ${#targets[@]} -eq ${#all_targets[@]} ]]; then
    cargo fuzz build --sanitizer "$FUZZ_SANITIZER" --debug-assertions
else
    for t in "${targets[@]}"; do
        cargo fuzz build --sanitizer "$FUZZ_SANITIZER" --debug-assertions "$t"
    done
fi
echo "== built in $(($(now) - t0)) s"
bindir=$root/fuzz/target/$host/release

failed=()

echo "== regressions"
for t in "${targets[@]}"; do
    files=()
    if [[ -d fuzz/regressions/$t ]]; then
        while IFS= read -r -d '' f; do files+=("$f"); done < <(find "fuzz/regressions/$t" -type f ! -name '*.md' -print0 | sort -z)
    fi
    [[ ${#files[@]} -gt 0 ]] || continue
    if "$bindir/$t" -timeout=10 -rss_limit_mb=2048 "${files[@]}" >"fuzz/target/regressions-$t.log" 2>&1; then
        echo "   $t: ${#files[@]} files pass"
    else
        echo "   $t: FAILED (log: fuzz/target/regressions-$t.log)"
        tail -n 30 "fuzz/target/regressions-$t.log"
        failed+=("$t(regression)")
    fi
done

declare -A max_len=([eventstream]=16384 [stream_events]=8192)
summary=()
for t in "${targets[@]}"; do
    work=fuzz/target/fuzz-work/$t
    mkdir -p "$work" "fuzz/artifacts/$t" "fuzz/corpus/$t"
    log=fuzz/target/fuzz-$t.log
    dict=()
    [[ -f fuzz/dicts/$t.dict ]] && dict=("-dict=fuzz/dicts/$t.dict")
    echo "== $t: ${secs} s"
    rc=0
    # shellcheck disable=SC2086
    "$bindir/$t" "$work" "fuzz/corpus/$t" \
        -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -max_len="${max_len[$t]:-8192}" -artifact_prefix="fuzz/artifacts/$t/" "${dict[@]}" \
        ${FUZZ_ARGS:-} >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    execs=${execs:-0}
    corpus=$(find "$work" -type f | wc -l)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    line=$(printf '%-14s %12s execs %8s exec/s  work corpus %6s' "$t" "$execs" "${rate:-0}" "$corpus")
    echo "   $line"
    if [[ $rc -ne 0 ]] || grep -qE '^(==[0-9]+== ?ERROR|SUMMARY: libFuzzer)|panicked at' "$log"; then
        echo "   $t FAILED (exit $rc), log: $log"
        grep -E 'panicked at|ERROR|SUMMARY|Test unit written|Base64' "$log" | head -n 20 || true
        summary+=("$line  CRASH")
        failed+=("$t")
    else
        summary+=("$line  ok")
        if [[ ${FUZZ_MINIMISE:-0} == 1 ]]; then
            # Replace the committed corpus by the smallest set of files (old corpus and this run's)
            # that keeps every edge: few hundred files rather than thousands of counter variants.
            all=$(mktemp -d)
            cp -n "fuzz/corpus/$t"/* "$work"/* "$all"/ 2>/dev/null || true
            rm -rf "fuzz/corpus/$t" && mkdir -p "fuzz/corpus/$t"
            "$bindir/$t" -set_cover_merge=1 -use_counters=0 -max_len="${max_len[$t]:-8192}" \
                "fuzz/corpus/$t" "$all" >"fuzz/target/minimise-$t.log" 2>&1
            rm -rf "$all"
            echo "   $t corpus minimised: $(find "fuzz/corpus/$t" -type f | wc -l) files"
        fi
    fi
done

echo "== summary (${secs} s per target, sanitizer $FUZZ_SANITIZER)"
printf '   %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "== FAILED: ${failed[*]} (reproducers in fuzz/artifacts/)"
    exit 1
fi
echo "== no crashes"

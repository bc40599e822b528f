#!/usr/bin/env bash
# The script part of action.yml: install nbrun, run the notebooks, hand back the JUnit path and exit code.
# Inputs come as INPUT_* variables; GITHUB_OUTPUT and GITHUB_STEP_SUMMARY are the runner's files.
# NBRUN_ACTION_SKIP_INSTALL=1 uses the nbrun already on PATH (the project's own tests).
set -uo pipefail

if [ "${NBRUN_ACTION_SKIP_INSTALL:-}" != "1" ]; then
    python -m pip install --quiet "${INPUT_NBRUN_VERSION:-jupyter-nbrun}" || exit 2
    if [ -n "${INPUT_REQUIREMENTS:-}" ]; then
        # shellcheck disable=SC2086  # pip arguments, split as written
        python -m pip install --quiet ${INPUT_REQUIREMENTS} || exit 2
    fi
fi

paths=()
while IFS= read -r line; do
    # shellcheck disable=SC2206  # a line may hold several space-separated paths
    [ -n "${line//[[:space:]]/}" ] && paths+=(${line})
done <<< "${INPUT_PATHS:-.}"

args=(run "${paths[@]}" -j "${INPUT_JOBS:-auto}" --junit-xml "${INPUT_JUNIT_XML:-notebook-results.xml}" --github --no-progress)
if [ "${INPUT_CACHE:-true}" = "true" ] && [ -n "${INPUT_CACHE_DIR:-}" ]; then
    args+=(--cache "${INPUT_CACHE_DIR}")
fi
if [ -n "${INPUT_ARGS:-}" ]; then
    read -ra extra <<< "${INPUT_ARGS}"
    args+=("${extra[@]}")
fi

nbrun "${args[@]}"
code=$?
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
        echo "junit-xml=${INPUT_JUNIT_XML:-notebook-results.xml}"
        echo "exit-code=${code}"
    } >> "${GITHUB_OUTPUT}"
fi
exit "${code}"

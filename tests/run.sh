#!/usr/bin/env bash
# Every test: Deno (TypeScript) and Python (training). Installs what is missing, then prints the
# combined "N passed, N failed" line and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/deno ] || [ ! -x node_modules/.bin/web-ext ]; then
  npm ci --no-audit --no-fund || exit 1
fi
if ! /usr/bin/python3 -c "import torch, PIL, numpy" 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing python3-torch, python3-pil, python3-numpy (Debian) for the training tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      python3-torch python3-pil python3-numpy >/dev/null || exit 1
  else
    echo "training tests need Debian's python3-torch: sudo apt-get install -y python3-torch" >&2
  fi
fi

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/firefox-esr ] || ! command -v ffmpeg >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing chromium, firefox-esr and ffmpeg (Debian) for the extension tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      chromium firefox-esr ffmpeg >/dev/null || exit 1
  else
    echo "extension tests need Debian's chromium, firefox-esr and ffmpeg:" \
      "sudo apt-get install -y chromium firefox-esr ffmpeg" >&2
  fi
fi

log=$(mktemp)
passed=0
failed=0

NO_COLOR=1 node_modules/.bin/deno test -A 2>&1 | tee "$log"
summary=$(grep -E '^(ok|FAILED) \|' "$log" | tail -1)
deno_passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
deno_failed=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
if [ -z "$summary" ]; then deno_failed=1; fi # deno did not finish (type error, crash)
passed=$((passed + deno_passed))
failed=$((failed + deno_failed))

GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296:glibc.malloc.top_pad=1073741824 \
  /usr/bin/python3 -m unittest discover -s tests -p 'test_*.py' 2>&1 | tee "$log"
ran=$(grep -oE '^Ran [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
py_bad=0
for kind in failures errors; do
  n=$(grep -oE "$kind=[0-9]+" "$log" | tail -1 | grep -oE '[0-9]+' || true)
  py_bad=$((py_bad + ${n:-0}))
done
skipped=$(grep -oE 'skipped=[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
if [ "$ran" = 0 ]; then py_bad=1; fi # python did not run any test
passed=$((passed + ran - py_bad - ${skipped:-0}))
failed=$((failed + py_bad))
rm -f "$log"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

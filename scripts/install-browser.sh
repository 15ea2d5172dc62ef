#!/usr/bin/env bash
# Installs what the page test (tests/test_browser.py) drives, unless present:
# - Debian's chromium (Playwright drives this system browser; it never downloads one);
# - axe-core from npm, the accessibility checker, into a folder outside the repository
#   (INNERCHILD_NODE_DIR, default /opt/innerchild-audio/node); the test reads axe.min.js there.
set -euo pipefail

NODE_DIR="${INNERCHILD_NODE_DIR:-/opt/innerchild-audio/node}"
AXE_VERSION="4.14.1"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

install_chromium() {
  if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || true)"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-get not found: install chromium with your package manager" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y chromium
  /usr/bin/chromium --version 2>/dev/null || true
}

install_axe() {
  local axe="$NODE_DIR/node_modules/axe-core/axe.min.js"
  if [ -f "$axe" ] && grep -q "\"version\": \"$AXE_VERSION\"" \
       "$NODE_DIR/node_modules/axe-core/package.json"; then
    echo "axe-core $AXE_VERSION already installed in $NODE_DIR"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: the accessibility test will skip (install nodejs and npm)" >&2
    return 1
  fi
  $SUDO mkdir -p "$NODE_DIR"
  $SUDO npm install --no-audit --no-fund --prefix "$NODE_DIR" "axe-core@$AXE_VERSION"
  echo "axe-core installed: $axe"
}

status=0
install_chromium || status=1
install_axe || status=1
exit "$status"

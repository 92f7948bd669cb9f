#!/bin/sh
# Install Debian's chromium for the dashboard's browser test (tests/test_ui_browser.py), if missing.
# Idempotent: does nothing when /usr/bin/chromium exists. Playwright never downloads a browser here;
# the test drives this one (executable_path=/usr/bin/chromium).
set -eu
if [ -x /usr/bin/chromium ]; then
    echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-get not found: cannot install chromium; the browser test will be skipped" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "not root and no sudo: cannot install chromium; the browser test will be skipped" >&2
        exit 0
    fi
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium
/usr/bin/chromium --version

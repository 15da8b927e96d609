#!/usr/bin/env bash
# The web page's end-to-end tests drive Debian's headless Chromium at /usr/bin/chromium (through Playwright's
# Python package, which then needs no browser download of its own). Install it where it is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
echo "no /usr/bin/chromium; installing Debian's chromium package" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
[ -x /usr/bin/chromium ] || { echo "chromium did not install to /usr/bin/chromium" >&2; exit 1; }

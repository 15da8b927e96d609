#!/usr/bin/env bash
# The optional LEMON matcher (src/matcher/pairing/solvers/lemon.py) needs Debian's liblemon-dev headers and g++ to
# build its shim, lemon_matching.so. Install them where missing, then build the shim when it is missing or older
# than its source. Everything here is optional: when apt-get or the build is impossible this prints a note and
# exits 0, and the matcher keeps rustworkx's blossom.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=src/matcher/pairing/solvers
SRC=$DIR/lemon_matching.cpp
LIB=$DIR/lemon_matching.so

skip() {
    echo "note: $1; the LEMON matcher is skipped and rustworkx's blossom is used (run \`make lemon\` to retry)" >&2
    exit 0
}

missing=()
[ -f /usr/include/lemon/matching.h ] || missing+=(liblemon-dev)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || skip "no apt-get to install ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        # Never wait on a password prompt for an optional speed-up.
        sudo -n true 2>/dev/null || skip "not root and no password-less sudo to install ${missing[*]}"
        SUDO="sudo -n"
    fi
    echo "installing Debian's ${missing[*]} for the LEMON matcher" >&2
    # Wait for dpkg's lock rather than fail when another install (make -j chromium) holds it.
    APT=(apt-get -qq -o DPkg::Lock::Timeout=300)
    $SUDO "${APT[@]}" update || true
    $SUDO env DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y "${missing[@]}" >/dev/null \
        || skip "apt-get install ${missing[*]} failed"
fi

if [ -f "$LIB" ] && [ "$LIB" -nt "$SRC" ]; then
    exit 0
fi
echo "building $LIB" >&2
# Built beside the target and renamed into place, so a process loading the library never sees half a file.
TMP=$(mktemp "$DIR/.lemon_matching.XXXXXX.so") || skip "cannot write to $DIR"
trap 'rm -f "$TMP"' EXIT
g++ -O2 -std=c++14 -shared -fPIC "$SRC" -o "$TMP" || skip "g++ could not build $LIB"
chmod 644 "$TMP"
mv -f "$TMP" "$LIB"

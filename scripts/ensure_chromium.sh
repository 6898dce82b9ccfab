#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright's own browser download cannot work on these machines).
# Installs it when it is missing: as root directly, otherwise through sudo when sudo needs no password.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
echo "--- installing Debian's chromium for the browser tests"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "Debian's chromium is missing and this user cannot install it: run 'sudo apt-get install -y chromium'." >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version

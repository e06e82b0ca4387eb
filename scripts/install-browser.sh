#!/usr/bin/env bash
# Installs Debian's Chromium for the web app's browser tests (Playwright drives it through
# executable_path; Playwright's own browser download is never used). Does nothing when it is there;
# needs root (or sudo) and apt-get otherwise. ZI2ZI_CHROMIUM names another Chromium binary.
set -euo pipefail
browser="${ZI2ZI_CHROMIUM:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "install-browser: no apt-get here; install Chromium and set ZI2ZI_CHROMIUM to its path" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing chromium for the browser tests"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null

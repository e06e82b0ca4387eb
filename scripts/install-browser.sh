#!/usr/bin/env bash
# Installs Debian's Chromium for the web app's browser tests (Playwright drives it through
# executable_path; Playwright's own browser download is never used). Does nothing when it is there;
# needs root (or sudo) and apt-get otherwise. ZI2ZI_CHROMIUM names another Chromium binary.
set -euo pipefail
browser="${ZI2ZI_CHROMIUM:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
exec "$(dirname "$0")/apt-install.sh" chromium

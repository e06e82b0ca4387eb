#!/usr/bin/env bash
# Installs the free CJK fonts the demo, benchmarks and ablation use, from Debian packages:
#   fonts-arphic-uming  (AR PL UMing, Ming/Song style)  Arphic Public License
#   fonts-arphic-ukai   (AR PL UKai, Kai style)         Arphic Public License
#   fonts-wqy-zenhei, fonts-wqy-microhei (WenQuanYi, Hei style)  GPL-2 with font embedding exception
#   fonts-lxgw-wenkai   (LXGW WenKai, Kai style)        SIL Open Font License 1.1
#   fonts-noto-cjk      (Noto Serif/Sans CJK: the base models' source font, classifier)  SIL OFL 1.1
# Does nothing when they are already there; needs root (or sudo) and apt-get otherwise.
set -euo pipefail
wanted=(fonts-arphic-uming fonts-arphic-ukai fonts-wqy-zenhei fonts-wqy-microhei fonts-lxgw-wenkai fonts-noto-cjk)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "install-demo-fonts: no apt-get here; install ${missing[*]} (or pass your own fonts to zi2zi)" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing demo fonts: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

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
exec "$(dirname "$0")/apt-install.sh" "${wanted[@]}"

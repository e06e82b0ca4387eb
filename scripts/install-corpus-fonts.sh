#!/usr/bin/env bash
# Installs the free CJK fonts that zi2zi's base models are trained on (the corpus) and the fonts
# that stand for a user's new font in evaluations (never trained on), from Debian packages.
# The README lists each family with its package, licence and style class.
#   install-corpus-fonts.sh            corpus and evaluation fonts
#   install-corpus-fonts.sh --corpus   corpus only
#   install-corpus-fonts.sh --eval     evaluation fonts only
# Does nothing when they are already there; needs root (or sudo) and apt-get otherwise.
set -euo pipefail
corpus=(fonts-noto-cjk fonts-noto-cjk-extra fonts-wqy-zenhei fonts-wqy-microhei
        fonts-arphic-uming fonts-arphic-gbsn00lp fonts-arphic-bsmi00lp
        fonts-cns11643-sung fonts-cns11643-kai
        fonts-ipafont-gothic fonts-ipafont-mincho fonts-ipaexfont-gothic fonts-ipaexfont-mincho
        fonts-hanazono fonts-vlgothic fonts-migmix fonts-smiley-sans fonts-droid-fallback)
evaluation=(fonts-arphic-ukai fonts-arphic-gkai00mp fonts-arphic-bkai00mp fonts-lxgw-wenkai
            fonts-yozvox-yozfont)
case "${1:-all}" in
  --corpus) wanted=("${corpus[@]}") ;;
  --eval) wanted=("${evaluation[@]}") ;;
  all) wanted=("${corpus[@]}" "${evaluation[@]}") ;;
  *) echo "install-corpus-fonts: unknown option $1; use --corpus, --eval or nothing" >&2; exit 2 ;;
esac
exec "$(dirname "$0")/apt-install.sh" "${wanted[@]}"

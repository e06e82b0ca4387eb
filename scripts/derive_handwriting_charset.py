"""Print the default handwriting template charset (src/zi2zi/handwriting/data/default300.txt) again,
derived offline from the Unicode Han Database (see zi2zi.handwriting.charset_derivation).

    python scripts/derive_handwriting_charset.py /usr/share/unicode > src/zi2zi/handwriting/data/default300.txt
"""

from __future__ import annotations

import argparse

from zi2zi.handwriting.charset_derivation import SIZE, charset_file, derive


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the default handwriting charset file.")
    parser.add_argument("unihan_dir", help="folder holding Unihan_*.txt.bz2 (Debian: unicode-data)")
    parser.add_argument("--size", type=int, default=SIZE)
    args = parser.parse_args()
    print(charset_file(derive(args.unihan_dir, args.size)), end="")


if __name__ == "__main__":
    main()

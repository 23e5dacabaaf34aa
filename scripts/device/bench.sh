#!/usr/bin/env bash
# Runs on the GPU device machine (after scripts/device/prepare.sh here, with .device and .gl carried):
# the devices list, every op against its C# reference, then `tidar bench` on the default model and on the
# random-weight qwen2.5-0.5b and stories15m shapes: the free-slot profile and AR vs TiDAR on that GPU
# through its own Vulkan driver. Everything lands in one results.tar.gz (plus run.log) under $OUT, or
# ./device-results without one (the device tool brings back at most 8 files): unpack it into
# bench/results/<device>/.
# Usage there:  bash scripts/device/bench.sh [quick|smoke]
#   quick: fewer rows and tokens, for a first look; smoke: a minute's check of this script (on any device)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
dest="${OUT:-$root/device-results}"
out=/tmp/device-results
rm -rf "$out" && mkdir -p "$out" "$dest"
exec > >(tee -a "$out/run.log") 2>&1

# Vulkan loader: the machine's own, else the carried .deb unpacked over / (the device tool's recipe).
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[[ -z "${VK_DRIVER_FILES:-}" && -f "$nvidia_icd" ]] && export VK_DRIVER_FILES="$nvidia_icd"

app=/tmp/tidar-app
rm -rf "$app" && mkdir -p "$app" && tar -C "$app" -xJf .device/tidar.tar.xz
tidar() { "$app/tidar" "$@"; }
export DOTNET_gcServer=0 TIDAR_MODEL="$root/models/tidar-default.gguf"

rows=1,2,4,8,16,32,48,64,96,128,256,512; tokens=128; prompts=8; qtokens=64; blocks=2,4,8; contexts=128,1024
case "${1:-}" in
  quick) rows=1,2,4,8,16,32,64; tokens=64; prompts=4; qtokens=32 ;;
  smoke) rows=1,2,4; tokens=8; prompts=1; qtokens=4; blocks=2; contexts=128 ;;
esac

echo "== $(date -u +%FT%TZ) devices"; tidar devices | tee "$out/devices.txt"
echo "== check";  tidar check | tee "$out/check.txt"
echo "== default model"
tidar bench --out "$out/default" --rows "$rows" --contexts "$contexts" --tokens "$tokens" --prompts "$prompts" --blocks "$blocks" --repeats 7
echo "== qwen2.5-0.5b shape (q8_0)"
tidar bench --random qwen2.5-0.5b --out "$out/qwen2.5-0.5b" --rows "$rows" --contexts "$contexts" --tokens "$qtokens" --prompts 2 --prompt-length 32 --blocks "$blocks"
echo "== stories15m shape (f32)"
tidar bench --random stories15m --out "$out/stories15m" --rows "$rows" --contexts "$contexts" --tokens "$qtokens" --prompts 3 --blocks "$blocks"
echo "== $(date -u +%FT%TZ) done"
tar -C "$out" -czf "$dest/results.tar.gz" .
cp "$out/run.log" "$dest/run.log"

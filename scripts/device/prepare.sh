#!/usr/bin/env bash
# Prepares what the GPU device machine needs (it has no .NET and no internet), here on the build machine:
#   .device/tidar.tar.xz   self-contained linux-x64 build of the `tidar` CLI (~32 MB; the device takes 64 MiB)
#   .gl/*.deb              the Vulkan loader, unpacked there over / when the machine lacks one
# Both folders are ignored by git and travel with `carry: [".device", ".gl"]`. Then run
# scripts/device/bench.sh on the device (see that file).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
"$root/scripts/ensure-system-packages.sh"
publish="$(mktemp -d)"
trap 'rm -rf "$publish"' EXIT
dotnet publish tools/TiDAR.Cli -c Release -r linux-x64 --self-contained true -o "$publish" -v quiet -nologo
mkdir -p .device
tar -C "$publish" -cJf .device/tidar.tar.xz .
echo "bundle: $(du -h .device/tidar.tar.xz | cut -f1) in .device/tidar.tar.xz"
if [[ ! -d .gl ]] || ! ls .gl/*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${o[@]}" update -qq
  (cd .gl && apt-get "${o[@]}" download libvulkan1)
fi
echo "loader: $(ls .gl/*.deb | tr '\n' ' ')"

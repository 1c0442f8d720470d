#!/usr/bin/env bash
# The prepared GPU run (issue 10): install kgdnc without dependencies (the device
# machine has torch, Lightning, networkx, pandas, typer, rich and matplotlib;
# rdflib travels as a wheel in .whl/), check CUDA, then continue the campaign
# runs for 8 minutes (scripts/device_train.py). Call it through the device tool:
#
#   run(command="bash scripts/device_train.sh", carry=[".whl"], timeout_s=600)
#
# and bring the files home with: python scripts/device_train.py --fetch FILES_AT
# Here, on the CPU: OUT=/tmp/out bash scripts/device_train.sh --tiny
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
if ! python3 -c "import kgdnc" 2> /dev/null; then
    python3 -m pip install -q --no-deps --no-build-isolation -e .
fi
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
exec python3 scripts/device_train.py --out "${OUT:?OUT must name the folder for the results}" "$@"

"""What a query's process pays beside torch: no module it does not need, no final
garbage collection over torch's objects (docs/architecture.md, "Start-up").

The query runs in a fresh interpreter, as the ``kgdnc`` console script runs it.
"""

import json
import os
import subprocess
import sys

# Lightning is for training; rdflib and pandas for ingesting; matplotlib for pictures.
NOT_NEEDED = ("pytorch_lightning", "lightning", "lightning_fabric", "torchmetrics",
              "rdflib", "pandas", "matplotlib", "kgdnc.training.module", "kgdnc.viz")

PROBE = """
import atexit, gc, json, sys
# registered first, so it runs after the CLI's own exit handlers
atexit.register(lambda: print("FROZEN=" + str(gc.get_freeze_count())))
from kgdnc.cli.main import app
try:
    app(["query", "--from", "Bank", "--to", "Oxford Circus", "--json"])
except SystemExit as done:
    assert done.code in (0, None), done.code
held = sorted(m for m in sys.modules if m.startswith({not_needed!r}))
print("HELD=" + json.dumps(held))
"""


def test_a_query_imports_only_what_it_needs_and_skips_the_final_collection(tmp_path):
    env = {**os.environ, "KGDNC_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", PROBE.format(not_needed=NOT_NEEDED)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    held = json.loads(next(x for x in lines if x.startswith("HELD="))[len("HELD="):])
    frozen = int(next(x for x in lines if x.startswith("FROZEN="))[len("FROZEN="):])
    assert held == []
    assert frozen > 10_000  # torch's objects, frozen before the interpreter's last collections
    assert '"expected"' in done.stdout  # it did answer

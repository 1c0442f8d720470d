"""The replay page in a real headless browser: it runs with nothing in its console
and lights edges on the map. Skipped where no headless Chromium is installed
(``.ci/run`` installs Debian's ``chromium``)."""

import shutil
import subprocess

import pytest

from kgdnc.graphs import load
from kgdnc.reasoning import ask
from kgdnc.reasoning.finetune import write_initial_checkpoint
from kgdnc.viz.replay import write_replay

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome-headless-shell")
BROWSER = next((path for name in BROWSERS if (path := shutil.which(name))), None)

pytestmark = [
    pytest.mark.slow,  # a browser start: several seconds
    pytest.mark.skipif(BROWSER is None,
                       reason="no headless Chromium installed (apt-get install chromium)"),
]


def test_page_runs_in_chromium_with_a_clean_console(tmp_path):
    model = write_initial_checkpoint(tmp_path / "sp.ckpt", "shortest-path", hidden_size=16,
                                     memory_size=16, word_size=8, read_heads=2)
    kg = load("london-underground")
    answer = ask("Bank", to="Oxford Circus", graph=kg, model=str(model), trace=True,
                 max_triples=40)
    out = write_replay(answer, kg, tmp_path / "bank.html")
    step = 45  # a query or planning step: every read head touches stored triples
    run = subprocess.run(
        [str(BROWSER), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--window-size=1200,900", "--dump-dom", f"{out.as_uri()}#{step}"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    # Chromium logs every console message (errors, uncaught exceptions, failed loads)
    # as INFO:CONSOLE; the page itself writes nothing there.
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "\n".join(console)
    dom = run.stdout
    assert 'data-replay-ready="1"' in dom  # the script ran to its end
    assert f"step {step}/" in dom and "Bank" in dom
    assert dom.count('class="lit"') > 0  # edges lit by the heads' weights
    assert dom.count("<polyline") > 300  # the map: every lane of the whole network

"""test/golden/winrate.json is what the reference packages (statsmodels, scikit-learn, scipy,
numpy) compute today: scripts/golden/make_winrate.py --check regenerates it and compares. The
TypeScript side (test/unit/winrate/winrate.test.ts) must equal it to 1e-6."""

import subprocess
import sys

import pytest

from conftest import REPO


def test_winrate_golden_is_current():
    for mod in ("statsmodels", "sklearn", "scipy"):
        pytest.importorskip(mod)
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "golden" / "make_winrate.py"), "--check"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr

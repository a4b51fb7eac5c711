"""test/golden/agreement.json is what the reference packages (scikit-learn, statsmodels,
krippendorff, scipy) compute today: scripts/golden/make_agreement.py --check regenerates it and
compares. The TypeScript side (test/unit/agreement/agreement.test.ts) must equal it to 1e-9."""

import subprocess
import sys

import pytest

from conftest import REPO


def test_agreement_golden_is_current():
    for mod in ("krippendorff", "statsmodels", "sklearn", "scipy"):
        pytest.importorskip(mod)
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "golden" / "make_agreement.py"), "--check"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr

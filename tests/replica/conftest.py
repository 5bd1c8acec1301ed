import json
from pathlib import Path

import pytest

import replica as rp

REFERENCE_JSON = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "translasso" / "theory_reference.json"
)


@pytest.fixture(scope="session")
def reference_cases():
    if not REFERENCE_JSON.exists():
        pytest.skip(f"reference data not found at {REFERENCE_JSON} (needs shared/ beside the repo)")
    return json.loads(REFERENCE_JSON.read_text())["cases"]


def scenario_from_case(case):
    p = case["prior"]
    prior = rp.GaussianMixturePrior(p["weights"], p["means"], p["covs"])
    return rp.TransferScenario(case["alphas"], case["sigmas"], prior)


@pytest.fixture
def prior_p1():
    """Prior P1 of spec section 3.8."""
    import numpy as np

    covs = np.zeros((4, 2, 2))
    covs[0] = [[1, 0.8], [0.8, 1]]
    covs[1, 0, 0] = 1.0
    covs[2, 1, 1] = 1.0
    return rp.GaussianMixturePrior([0.15, 0.05, 0.05, 0.75], np.zeros((4, 2)), covs)

import json
from pathlib import Path

import pytest

import replica as rp

# RS predictions of an independent numpy implementation (provenance: tests/data/README.md)
REFERENCE_JSON = Path(__file__).resolve().parents[1] / "data/translasso/theory_reference.json"


def load_reference_cases():
    return json.loads(REFERENCE_JSON.read_text())["cases"]


@pytest.fixture(scope="session")
def reference_cases():
    return load_reference_cases()


def scenario_from_case(case):
    p = case["prior"]
    prior = rp.GaussianMixturePrior(p["weights"], p["means"], p["covs"])
    return rp.TransferScenario(case["alphas"], case["sigmas"], prior)


@pytest.fixture
def prior_p1():
    """Prior P1 of the finite-N checks of ``docs/translasso_theory.md``."""
    import numpy as np

    covs = np.zeros((4, 2, 2))
    covs[0] = [[1, 0.8], [0.8, 1]]
    covs[1, 0, 0] = 1.0
    covs[2, 1, 1] = 1.0
    return rp.GaussianMixturePrior([0.15, 0.05, 0.05, 0.75], np.zeros((4, 2)), covs)

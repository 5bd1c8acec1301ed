"""``optimize`` against an independent brute-force search, and its failure reporting."""

import importlib
import itertools
import math
import warnings

import numpy as np
import pytest

import replica as rp

LAM1 = 0.3056
# scenario A of the strategy tables: the best dlam = 0 fit transfers with kappa ~ 1.05
SCEN_A = rp.TransferScenario((0.5, 4.0), (0.1, 0.1), rp.support_prior(0.1, [0.02, 0.02]))
# scenario B: support-only transfer (kappa = 0) is optimal
SCEN_B = rp.TransferScenario((0.5, 4.0), (0.1, 0.1), rp.support_prior(0.06, [0.06, 0.06]))


def _eps2(scenario, hyper):
    return rp.solve_trans_lasso(scenario, hyper, strict=True).eps2


def _brute_force(scenario, base, axes):
    """Exhaustive search over the cartesian product of ``axes`` (name -> values)."""
    best = (math.inf, None)
    for values in itertools.product(*axes.values()):
        hyper = base.replace(**dict(zip(axes, values, strict=True)))
        best = min(best, (_eps2(scenario, hyper), hyper), key=lambda t: t[0])
    return best


def _zoom(values, best, n):
    """A finer grid between the neighbours of ``best`` in ``values``."""
    i = int(np.argmin(np.abs(np.asarray(values) - best)))
    lo, hi = values[max(i - 1, 0)], values[min(i + 1, len(values) - 1)]
    return np.geomspace(lo, hi, n) if lo > 0 else np.linspace(lo, hi, n)


def _assert_local_minimum(scenario, opt, steps):
    for name, step in steps.items():
        v = getattr(opt.hyper, name)
        for d in (-step, step):
            if v + d < 0 and name != "kappa":
                continue
            assert _eps2(scenario, opt.hyper.replace(**{name: v + d})) >= opt.eps2 - 1e-12, name


def test_dlam0_search_matches_a_two_stage_brute_force_grid():
    opt = rp.optimize(SCEN_A, ("lam2", "kappa"), {"dlam": 0.0, "lam1": LAM1})
    base = rp.TransLassoHyper(LAM1, 0.1, 0.0, 0.0)
    lam2s, kappas = np.geomspace(1e-3, 1.0, 19), np.linspace(0.0, 1.5, 16)
    _, coarse = _brute_force(SCEN_A, base, {"lam2": lam2s, "kappa": kappas})
    fine_eps, fine = _brute_force(SCEN_A, base, {"lam2": _zoom(lam2s, coarse.lam2, 15),
                                                 "kappa": _zoom(kappas, coarse.kappa, 15)})
    assert opt.hyper.dlam == 0.0 and opt.hyper.lam1 == LAM1
    assert opt.eps2 <= fine_eps + 1e-12
    # and the brute force lands next to the optimiser's point
    assert abs(math.log(opt.hyper.lam2 / fine.lam2)) < 0.1
    assert abs(opt.hyper.kappa - fine.kappa) < 0.02
    _assert_local_minimum(SCEN_A, opt, {"lam2": 1e-3 * opt.hyper.lam2, "kappa": 1e-3})


def test_full_search_matches_a_brute_force_grid_scenario_b():
    rec = rp.recommend(SCEN_B, lam1="target")
    full = rec.table.set_index("strategy").loc["full"]
    lam1 = float(full["lam1"])
    base = rp.TransLassoHyper(lam1, 0.1, 0.0, 0.0)
    axes = {"lam2": np.geomspace(3e-3, 1.0, 9), "kappa": np.linspace(0.0, 1.5, 7),
            "dlam": np.concatenate([[0.0], np.geomspace(1e-2, 3.0, 7)])}
    _, coarse = _brute_force(SCEN_B, base, axes)
    fine_eps, _ = _brute_force(SCEN_B, base, {n: _zoom(v, getattr(coarse, n), 7)
                                             for n, v in axes.items()})
    assert full["eps2"] <= fine_eps + 1e-12
    hyper = rp.TransLassoHyper(lam1, float(full["lam2"]), float(full["kappa"]),
                               float(full["dlam"]))
    assert _eps2(SCEN_B, hyper) == pytest.approx(full["eps2"], rel=1e-9)
    assert rec.strategy == "kappa0" and rec.regret < 1e-3 and "kappa0" in str(rec)
    assert abs(full["eps2"] - 0.02181) < 1e-4  # the strategy table's printed value


def test_exhausted_nelder_mead_is_warned_and_counted():
    with pytest.warns(rp.ConvergenceWarning, match="maxfev = 3"):
        opt = rp.optimize(SCEN_A, ("lam2", "kappa"), {"dlam": 0.0}, lam1=LAM1,
                          search=rp.NelderMeadOptions(maxfev=3))
    assert opt.n_exhausted >= 1 and opt.to_dict()["n_exhausted"] == opt.n_exhausted
    with warnings.catch_warnings():
        warnings.simplefilter("error", rp.ConvergenceWarning)
        ok = rp.optimize(SCEN_A, ("lam2",), {"dlam": 0.0, "kappa": 0.0}, lam1=LAM1)
    assert ok.n_exhausted == 0 and ok.n_failed == 0


def test_failed_evaluations_are_warned_and_counted(monkeypatch):
    """Evaluations that fail (here: lam2 > 0.05 made to fail) are +inf, counted and warned."""
    ropt = importlib.import_module("replica.optimize")  # the module, not the function
    real_solve = ropt.solve_finetuning

    def failing(scenario, hyper, stage1, **kw):
        if hyper.lam2 > 0.05:
            raise rp.NonFiniteIterateError("made to fail")
        return real_solve(scenario, hyper, stage1, **kw)

    monkeypatch.setattr(ropt, "solve_finetuning", failing)
    with pytest.warns(rp.ConvergenceWarning, match="evaluations failed"):
        opt = rp.optimize(SCEN_A, ("lam2",), {"dlam": 0.0, "kappa": 0.0}, lam1=LAM1)
    assert opt.n_failed > 0 and opt.hyper.lam2 <= 0.05

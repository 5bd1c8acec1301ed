"""Bad inputs to the public API of :mod:`replica`: each raises ``ValueError`` naming the field.

Each row is (id, call, message fragment); the fragment is matched at the start of the message,
so the message must lead with the argument's name (``"lam2 = nan: ..."``). None of these calls
reaches a solver: the checks run at the boundary.
"""

import math

import numpy as np
import pytest

import replica as rp

P = rp.support_prior(0.1, [0.02, 0.02])
S = rp.TransferScenario((0.5, 4.0), (0.1, 0.1), P)
H = rp.TransLassoHyper(0.3, 0.1, 0.5, 0.5)
Z22 = np.zeros((2, 2))


def _stage1():
    return rp.solve_pretraining(S, 0.2)


BAD = [
    # closed-form moments
    ("moments NaN mu", lambda: rp.soft_threshold_moments(math.nan, 1.0, 0.5), "mu"),
    ("moments NaN v", lambda: rp.soft_threshold_moments(0.0, math.nan, 0.5), "v"),
    ("moments NaN lam", lambda: rp.soft_threshold_moments(0.0, 1.0, math.nan), "lam"),
    ("moments NaN in array", lambda: rp.soft_threshold_moments([0.0, math.nan], 1.0, 0.5), "mu"),
    ("moments inf mu", lambda: rp.soft_threshold_moments(math.inf, 1.0, 0.5), "mu"),
    ("moments inf v", lambda: rp.soft_threshold_moments(0.0, math.inf, 0.5), "v"),
    ("moments negative v", lambda: rp.soft_threshold_moments(0.0, -1.0, 0.5), "v"),
    ("moments negative lam", lambda: rp.soft_threshold_moments(0.0, 1.0, -0.5), "lam"),
    ("moments string", lambda: rp.soft_threshold_moments("a", 1.0, 0.5), "mu"),
    ("moments shapes", lambda: rp.soft_threshold_moments([1, 2], [1, 2, 3], 0.5), "mu, v, lam"),
    # sampling
    ("sample N 10.7", lambda: S.sample(10.7), "n_features"),
    ("sample N NaN", lambda: S.sample(math.nan), "n_features"),
    ("sample N string", lambda: S.sample("10"), "n_features"),
    ("sample N 0", lambda: S.sample(0), "n_features"),
    ("sample N negative", lambda: S.sample(-5), "n_features"),
    ("sample rng string", lambda: S.sample(10, rng="a"), "rng"),
    ("sample rng negative", lambda: S.sample(10, rng=-1), "rng"),
    ("sample rng float", lambda: S.sample(10, rng=1.5), "rng"),
    ("n_samples 2.5", lambda: S.n_samples(2.5), "n_features"),
    ("prior sample 2.5", lambda: P.sample(2.5), "n"),
    ("prior sample string", lambda: P.sample("3"), "n"),
    # scenario
    ("alphas nested", lambda: rp.TransferScenario(((0.5, 1), (4.0, 1)), (0.1, 0.1), P), "alphas"),
    ("alphas string", lambda: rp.TransferScenario(("a", 4.0), (0.1, 0.1), P), "alphas"),
    ("alphas empty", lambda: rp.TransferScenario((), (), P), "alphas"),
    ("alphas NaN", lambda: rp.TransferScenario((math.nan, 4.0), (0.1, 0.1), P), "alphas"),
    ("alphas inf", lambda: rp.TransferScenario((math.inf, 4.0), (0.1, 0.1), P), r"alphas\[0\]"),
    ("alphas negative", lambda: rp.TransferScenario((0.5, -0.5), (0.1, 0.1), P), r"alphas\[1\]"),
    ("alphas zero", lambda: rp.TransferScenario((0.0, 4.0), (0.1, 0.1), P), r"alphas\[0\]"),
    ("sigmas inf", lambda: rp.TransferScenario((0.5, 4.0), (math.inf, 0.1), P), r"sigmas\[0\]"),
    ("sigmas negative", lambda: rp.TransferScenario((0.5, 4.0), (0.1, -0.1), P), r"sigmas\[1\]"),
    ("sigmas nested", lambda: rp.TransferScenario((0.5, 4.0), ((0.1,), (0.1,)), P), "sigmas"),
    ("sigmas length", lambda: rp.TransferScenario((0.5, 4.0), (0.1,), P), "sigmas"),
    ("prior wrong type", lambda: rp.TransferScenario((0.5, 4.0), (0.1, 0.1), {"a": 1}), "prior"),
    ("prior wrong K", lambda: rp.TransferScenario((0.5, 1, 2), (0.1, 0.1, 0.1), P), "prior"),
    ("replace unknown", lambda: S.replace(alpha=(1.0, 1.0)), "alpha"),
    ("from_dict missing", lambda: rp.TransferScenario.from_dict({"alphas": [1.0]}), "sigmas"),
    ("from_dict prior", lambda: rp.TransferScenario.from_dict(
        {"alphas": [1.0], "sigmas": [0.1], "prior": {"weights": [1.0]}}), "prior.means"),
    # hyperparameters
    ("kappa string", lambda: rp.TransLassoHyper(0.3, 0.1, "0.5", 0.0), "kappa"),
    ("kappa bool", lambda: rp.TransLassoHyper(0.3, 0.1, True), "kappa"),
    ("kappa None", lambda: rp.TransLassoHyper(0.3, 0.1, None), "kappa"),
    ("kappa inf", lambda: rp.TransLassoHyper(0.3, 0.1, math.inf), "kappa"),
    ("kappa NaN", lambda: rp.TransLassoHyper(0.3, 0.1, math.nan), "kappa"),
    ("lam1 string", lambda: rp.TransLassoHyper("0.3"), "lam1"),
    ("lam1 negative", lambda: rp.TransLassoHyper(-0.3), "lam1"),
    ("lam2 NaN", lambda: rp.TransLassoHyper(0.3, math.nan), "lam2"),
    ("lam2 negative", lambda: rp.TransLassoHyper(0.3, -1.0), "lam2"),
    ("dlam list", lambda: rp.TransLassoHyper(0.3, 0.1, 0.0, [1.0]), "dlam"),
    ("dlam -inf", lambda: rp.TransLassoHyper(0.3, 0.1, 0.0, -math.inf), "dlam"),
    ("hyper replace unknown", lambda: H.replace(kapa=1.0), "kapa"),
    # priors
    ("weights string", lambda: rp.GaussianMixturePrior(["a"], [[0.0]], [[[1.0]]]), "weights"),
    ("weights empty", lambda: rp.GaussianMixturePrior([], np.zeros((0, 1)), np.zeros((0, 1, 1))),
     "weights"),
    ("weights sum", lambda: rp.GaussianMixturePrior([0.5, 0.6], Z22, np.zeros((2, 2, 2))),
     "weights"),
    ("weights negative", lambda: rp.GaussianMixturePrior([1.2, -0.2], Z22, np.zeros((2, 2, 2))),
     r"weights\[1\]"),
    ("means NaN", lambda: rp.GaussianMixturePrior([1.0], [[math.nan]], [[[1.0]]]), "means"),
    ("means ragged", lambda: rp.GaussianMixturePrior([0.5, 0.5], [[0.0], [0.0, 1.0]],
                                                     np.zeros((2, 1, 1))), "means"),
    ("means shape", lambda: rp.GaussianMixturePrior([0.5, 0.5], np.zeros((3, 2)),
                                                    np.zeros((2, 2, 2))), "means"),
    ("covs shape", lambda: rp.GaussianMixturePrior([1.0], np.zeros((1, 2)), np.zeros((1, 3, 3))),
     "covs"),
    ("covs not PSD", lambda: rp.GaussianMixturePrior([1.0], np.zeros((1, 2)), -np.eye(2)[None]),
     r"covs\[0\]"),
    ("covs not symmetric", lambda: rp.GaussianMixturePrior(
        [1.0], np.zeros((1, 2)), np.array([[[1, 0.5], [0, 1]]])), r"covs\[0\]"),
    ("covs inf", lambda: rp.GaussianMixturePrior([1.0], [[0.0]], [[[math.inf]]]), "covs"),
    ("support pi NaN", lambda: rp.support_prior(math.nan, [0.1, 0.1]), "pi_common"),
    ("support pi string", lambda: rp.support_prior("a", [0.1, 0.1]), "pi_common"),
    ("support pi > 1", lambda: rp.support_prior(1.5, [0.1, 0.1]), "pi_common"),
    ("support sum > 1", lambda: rp.support_prior(0.9, [0.1, 0.1]), "pi_common"),
    ("support pi_unique negative", lambda: rp.support_prior(0.1, [-0.1, 0.1]),
     r"pi_unique\[0\]"),
    ("support pi_unique empty", lambda: rp.support_prior(0.1, []), "pi_unique"),
    ("support pi_unique nested", lambda: rp.support_prior(0.1, [[0.1, 0.1]]), "pi_unique"),
    ("support pi_unique length", lambda: rp.support_prior(0.1, [0.1, 0.1], n_datasets=3),
     "pi_unique"),
    ("support scalar without K", lambda: rp.support_prior(0.1, 0.1), "n_datasets"),
    ("support K 2.5", lambda: rp.support_prior(0.1, 0.1, n_datasets=2.5), "n_datasets"),
    ("support K 0", lambda: rp.support_prior(0.1, 0.1, n_datasets=0), "n_datasets"),
    ("support scale NaN", lambda: rp.support_prior(0.1, [0.1, 0.1], scale=math.nan), "scale"),
    ("support scale inf", lambda: rp.support_prior(0.1, [0.1, 0.1], scale=math.inf), "scale"),
    ("support scale 0", lambda: rp.support_prior(0.1, [0.1, 0.1], scale=0.0), "scale"),
    ("support corr NaN", lambda: rp.support_prior(0.1, [0.1, 0.1], corr=math.nan), "corr"),
    ("support corr < -1/(K-1)", lambda: rp.support_prior(0.1, [0.1, 0.1, 0.1], corr=-0.6),
     "corr"),
    # solver controls and arguments
    ("solve tol NaN", lambda: rp.solve_trans_lasso(S, H, tol=math.nan), "tol"),
    ("solve tol 0", lambda: rp.solve_trans_lasso(S, H, tol=0.0), "tol"),
    ("solve max_iter 2.5", lambda: rp.solve_trans_lasso(S, H, max_iter=2.5), "max_iter"),
    ("solve max_iter 0", lambda: rp.solve_trans_lasso(S, H, max_iter=0), "max_iter"),
    ("solve damping 1", lambda: rp.solve_trans_lasso(S, H, damping=1.0), "damping"),
    ("solve damping negative", lambda: rp.solve_trans_lasso(S, H, damping=-0.1), "damping"),
    ("solve anderson -1", lambda: rp.solve_trans_lasso(S, H, anderson=-1), "anderson"),
    ("solve anderson 1.5", lambda: rp.solve_trans_lasso(S, H, anderson=1.5), "anderson"),
    ("solve strict string", lambda: rp.solve_pretraining(S, 0.3, strict="yes"), "strict"),
    ("solve hyper dict", lambda: rp.solve_trans_lasso(S, {"lam1": 0.3}), "hyper"),
    ("solve scenario dict", lambda: rp.solve_pretraining({"alphas": [1.0]}, 0.3), "scenario"),
    ("solve init length", lambda: rp.solve_trans_lasso(S, H, init=[1, 2]), "init"),
    ("solve init string", lambda: rp.solve_trans_lasso(S, H, init="a"), "init"),
    ("stage-1 init length", lambda: rp.solve_pretraining(S, 0.3, init=[1, 0, 1]), "init"),
    ("stage1 with another lam1", lambda: rp.solve_trans_lasso(S, H, stage1=_stage1()),
     "stage1.lam1"),
    ("stage1 wrong type", lambda: rp.solve_finetuning(S, H, stage1=H), "stage1"),
    ("quadrature wrong type", lambda: rp.solve_trans_lasso(S, H, quadrature=5), "quadrature"),
    ("pretraining lam1 string", lambda: rp.solve_pretraining(S, "a"), "lam1"),
    ("pretraining lam1 negative", lambda: rp.solve_pretraining(S, -1), "lam1"),
    ("quadrature n_nodes 2.5", lambda: rp.QuadratureRule(n_nodes=2.5), "n_nodes"),
    ("quadrature n_nodes 1", lambda: rp.QuadratureRule(n_nodes=1), "n_nodes"),
    ("quadrature edges NaN", lambda: rp.QuadratureRule(edges=(math.nan, 1.0)), "edges"),
    ("quadrature edges order", lambda: rp.QuadratureRule(edges=(1.0, 0.0)), "edges"),
    ("quadrature floor 0", lambda: rp.QuadratureRule(variance_floor=0.0), "variance_floor"),
    # sweeps
    ("sweep empty values", lambda: rp.sweep(S, H, vary={"kappa": []}), r"vary\['kappa'\]"),
    ("sweep nested values", lambda: rp.sweep(S, H, vary={"kappa": [[0, 1]]}), r"vary\['kappa'\]"),
    ("sweep string values", lambda: rp.sweep(S, H, vary={"kappa": ["a"]}), r"vary\['kappa'\]"),
    ("sweep NaN values", lambda: rp.sweep(S, H, vary={"kappa": [math.nan]}), r"vary\['kappa'\]"),
    ("sweep vary list", lambda: rp.sweep(S, H, vary=["kappa"]), "vary"),
    ("sweep vary empty", lambda: rp.sweep(S, H, vary={}), "vary"),
    ("sweep unknown name", lambda: rp.sweep(S, H, vary={"alpha0": [1.0]}), "vary"),
    ("sweep dataset index", lambda: rp.sweep(S, H, vary={"alpha_9": [1.0]}), "vary"),
    ("sweep negative alpha", lambda: rp.sweep(S, H, vary={"alpha_0": [-1.0]}), r"alphas\[0\]"),
    # optimisation
    ("optimize n_grid 2.5", lambda: rp.optimize(S, ("lam2",), lam1=0.3, n_grid=2.5), "n_grid"),
    ("optimize n_grid string", lambda: rp.optimize(S, ("lam2",), lam1=0.3, n_grid="5"), "n_grid"),
    ("optimize n_grid 1", lambda: rp.optimize(S, ("lam2",), lam1=0.3, n_grid=1), "n_grid"),
    ("optimize fixed unknown", lambda: rp.optimize(S, ("lam2",), {"kapa": 1.0}, lam1=0.3),
     "fixed"),
    ("optimize fixed NaN", lambda: rp.optimize(S, ("lam2",), {"kappa": math.nan}, lam1=0.3),
     r"fixed\['kappa'\]"),
    ("optimize fixed string", lambda: rp.optimize(S, ("lam2",), {"kappa": "a"}, lam1=0.3),
     r"fixed\['kappa'\]"),
    ("optimize fixed list", lambda: rp.optimize(S, ("lam2",), [("kappa", 1.0)], lam1=0.3),
     "fixed"),
    ("optimize fixed and over", lambda: rp.optimize(S, ("kappa",), {"kappa": 1.0}, lam1=0.3),
     "'kappa' is both"),
    ("optimize over unknown", lambda: rp.optimize(S, ("lamb",), lam1=0.3), "over"),
    ("optimize over empty", lambda: rp.optimize(S, (), lam1=0.3), "over"),
    ("optimize over repeated", lambda: rp.optimize(S, ("lam2", "lam2"), lam1=0.3), "over"),
    ("optimize over number", lambda: rp.optimize(S, 3, lam1=0.3), "over"),
    ("optimize pt_alpha and kappa", lambda: rp.optimize(S, ("pt_alpha", "kappa"), lam1=0.3),
     "pt_alpha"),
    ("optimize bounds single", lambda: rp.optimize(S, ("lam2",), lam1=0.3,
                                                   bounds={"lam2": (1.0,)}), r"bounds\['lam2'\]"),
    ("optimize bounds NaN", lambda: rp.optimize(S, ("kappa",), lam1=0.3,
                                                bounds={"kappa": (math.nan, 1.0)}),
     r"bounds\['kappa'\]"),
    ("optimize bounds reversed", lambda: rp.optimize(S, ("kappa",), lam1=0.3,
                                                     bounds={"kappa": (1.0, 0.0)}),
     r"bounds\['kappa'\]"),
    ("optimize bounds log <= 0", lambda: rp.optimize(S, ("lam2",), lam1=0.3,
                                                     bounds={"lam2": (0.0, 1.0)}),
     r"bounds\['lam2'\]"),
    ("optimize bounds dlam < 0", lambda: rp.optimize(S, ("dlam",), lam1=0.3,
                                                     bounds={"dlam": (-1.0, 1.0)}),
     r"bounds\['dlam'\]"),
    ("optimize bounds unknown", lambda: rp.optimize(S, ("lam2",), lam1=0.3,
                                                    bounds={"kapa": (0, 1)}), "bounds"),
    ("optimize lam1 rule", lambda: rp.optimize(S, ("lam2",), lam1="best"), "rule"),
    ("optimize lam1 NaN", lambda: rp.optimize(S, ("lam2",), lam1=math.nan), "lam1"),
    ("optimize lam1 None", lambda: rp.optimize(S, ("lam2",), lam1=None), "lam1"),
    ("optimize tol 0", lambda: rp.optimize(S, ("lam2",), lam1=0.3, tol=0), "tol"),
    ("optimize starts string", lambda: rp.optimize(S, ("lam2",), lam1=0.3,
                                                   starts=[{"lam2": "a"}]), r"starts\[0\]"),
    ("optimize starts unknown", lambda: rp.optimize(S, ("lam2",), lam1=0.3,
                                                    starts=[{"lamb": 1.0}]), r"starts\[0\]"),
    ("optimize scenario", lambda: rp.optimize("S", ("lam2",), lam1=0.3), "scenario"),
    ("optimize search type", lambda: rp.optimize(S, ("lam2",), lam1=0.3, search={}), "search"),
    ("Nelder-Mead maxfev 0", lambda: rp.NelderMeadOptions(maxfev=0), "maxfev"),
    ("Nelder-Mead fraction 0", lambda: rp.NelderMeadOptions(simplex_fraction=0.0),
     "simplex_fraction"),
    ("choose_lam1 rule", lambda: rp.choose_lam1(S, "x"), "rule"),
    ("choose_lam1 n_grid 1", lambda: rp.choose_lam1(S, n_grid=1), "n_grid"),
    ("choose_lam1 n_grid 2.5", lambda: rp.choose_lam1(S, n_grid=2.5), "n_grid"),
    ("choose_lam1 bounds NaN", lambda: rp.choose_lam1(S, bounds=(math.nan, 1)),
     r"bounds\['lam1'\]"),
    ("choose_lam1 bounds <= 0", lambda: rp.choose_lam1(S, bounds=(0.0, 1.0)),
     r"bounds\['lam1'\]"),
    ("strategy_table unknown", lambda: rp.strategy_table(S, 0.3, strategies=("best",)),
     "strategies"),
    ("strategy_table empty", lambda: rp.strategy_table(S, 0.3, strategies=()), "strategies"),
    ("strategy_table lam1 negative", lambda: rp.strategy_table(S, -0.3), "lam1"),
    ("recommend without full", lambda: rp.recommend(S, 0.3, strategies=("dlam0", "kappa0")),
     "strategies"),
]


@pytest.mark.parametrize("call,field", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_raises_value_error_naming_the_field(call, field):
    with pytest.raises(ValueError, match="^" + field):
        call()


def test_the_table_is_large_and_its_ids_unique():
    ids = [b[0] for b in BAD]
    assert len(ids) == len(set(ids)) and len(ids) >= 100


def test_nan_start_stops_with_a_clear_error_not_a_silent_nan():
    with pytest.raises(rp.NonFiniteIterateError, match="NaN"):
        rp.solve_pretraining(S, 0.3, init=[math.nan, 0.0, 0.0, 1.0])

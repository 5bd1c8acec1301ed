"""Problem validation, convergence reporting, sweeps and hyperparameter selection."""

import math
import warnings

import numpy as np
import pytest

import replica as rp


@pytest.fixture
def scen():
    return rp.TransferScenario((0.5, 4.0), (0.1, 0.1), rp.support_prior(0.1, [0.02, 0.02]))


# ---- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,field",
    [
        (dict(weights=[0.5, 0.6], means=np.zeros((2, 2)), covs=np.zeros((2, 2, 2))), "weights"),
        (dict(weights=[1.2, -0.2], means=np.zeros((2, 2)), covs=np.zeros((2, 2, 2))),
         "weights[1]"),
        (dict(weights=[1.0], means=np.zeros((1, 2)), covs=np.zeros((1, 3, 3))), "covs"),
        (dict(weights=[1.0], means=np.zeros((1, 2)), covs=-np.eye(2)[None]), "covs[0]"),
        (dict(weights=[1.0], means=np.zeros((1, 2)), covs=np.array([[[1, 0.5], [0, 1]]])),
         "covs[0]"),
        (dict(weights=[0.5, 0.5], means=np.zeros((3, 2)), covs=np.zeros((2, 2, 2))), "means"),
    ],
)
def test_prior_validation_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=r"^" + field.replace("[", r"\[").replace("]", r"\]")):
        rp.GaussianMixturePrior(**kwargs)


def test_scenario_validation(scen):
    p = scen.prior
    with pytest.raises(ValueError, match=r"alphas\[1\] = -0.5"):
        rp.TransferScenario((0.5, -0.5), (0.1, 0.1), p)
    with pytest.raises(ValueError, match=r"sigmas\[0\]"):
        rp.TransferScenario((0.5, 1.0), (-0.1, 0.1), p)
    with pytest.raises(ValueError, match="sigmas"):
        rp.TransferScenario((0.5, 1.0), (0.1,), p)
    with pytest.raises(ValueError, match="prior: describes K = 2"):
        rp.TransferScenario((0.5, 1.0, 2.0), (0.1, 0.1, 0.1), p)
    with pytest.raises(ValueError, match="lam2"):
        rp.TransLassoHyper(0.1, -1.0)
    with pytest.raises(ValueError, match="kappa"):
        rp.TransLassoHyper(0.1, 0.1, math.nan)
    with pytest.raises(ValueError, match="pi_common"):
        rp.support_prior(0.9, [0.1, 0.1])


def test_ill_posed_cases_are_refused(scen):
    with pytest.raises(rp.NotIdentifiableError, match="alphas\\[0\\]"):
        rp.solve_trans_lasso(scen, rp.TransLassoHyper(0.3, 0.0, 0.5, 0.0))
    small = rp.TransferScenario((0.3, 0.4), (0.1, 0.1), scen.prior)
    with pytest.raises(rp.NotIdentifiableError, match="lam1 = 0"):
        rp.solve_pretraining(small, 0.0)


# ---- convergence reporting ----------------------------------------------------------------
def test_nonconvergence_warns_or_raises(scen):
    hy = rp.TransLassoHyper(0.3, 0.1, 0.5, 0.5)
    with pytest.warns(rp.ConvergenceWarning, match="did not converge"):
        res = rp.solve_trans_lasso(scen, hy, max_iter=3)
    assert not res.converged and res.residual > 1e-11 and res.iterations >= 3
    with pytest.raises(rp.ConvergenceError):
        rp.solve_trans_lasso(scen, hy, max_iter=3, strict=True)
    ok = rp.solve_trans_lasso(scen, hy)
    assert ok.converged and ok.residual <= 1e-11


def test_nan_iterate_stops_with_clear_error(scen):
    with pytest.raises(rp.NonFiniteIterateError, match="NaN"):
        rp.solve_pretraining(scen, 0.3, init=[math.nan, 0.0, 0.0, 1.0])


def test_warm_start_and_anderson_give_the_same_fixed_point(scen):
    hy = rp.TransLassoHyper(0.3, 0.1, 0.5, 0.5)
    cold = rp.solve_trans_lasso(scen, hy, anderson=0)
    fast = rp.solve_trans_lasso(scen, hy)
    warm = rp.solve_trans_lasso(scen, hy.replace(kappa=0.55), init=fast)
    cold2 = rp.solve_trans_lasso(scen, hy.replace(kappa=0.55))
    assert fast.iterations < cold.iterations
    assert fast.eps2 == pytest.approx(cold.eps2, rel=1e-9)
    assert warm.eps2 == pytest.approx(cold2.eps2, rel=1e-9)
    assert warm.iterations <= cold2.iterations


def test_result_to_dict_is_flat(scen):
    d = rp.solve_trans_lasso(scen, rp.TransLassoHyper(0.3, 0.1, 0.5, 0.5)).to_dict()
    for key in ("lam1", "kappa", "eps1", "eps2", "mse2", "m1_0", "m1_1", "Q2", "chi12",
                "converged", "iterations1", "density2"):
        assert key in d
    assert all(not isinstance(v, tuple | list | dict) for v in d.values())


def test_sample_matches_the_ensemble(scen):
    s = scen.sample(400, rng=3)
    a0, y0 = s.target
    assert a0.shape == (200, 400) and s.designs[1].shape == (1600, 400)
    assert abs(np.var(np.vstack(s.designs)) * 400 - 1.0) < 0.01
    # same seed, same numbers
    s2 = scen.sample(400, rng=3)
    np.testing.assert_array_equal(s.responses[1], s2.responses[1])
    # identical common values (corr = 1): truths agree on the common support
    both = (s.truth[0] != 0) & (s.truth[1] != 0)
    np.testing.assert_array_equal(s.truth[0][both], s.truth[1][both])


def test_prior_sampling_moments():
    prior = rp.support_prior(0.3, [0.1, 0.2], corr=0.5, scale=2.0)
    r = prior.sample(200_000, rng=0)
    np.testing.assert_allclose((r**2).mean(axis=1), prior.second_moments, rtol=0.02)
    common = (r[0] != 0) & (r[1] != 0)
    assert np.corrcoef(r[0][common], r[1][common])[0, 1] == pytest.approx(0.5, abs=0.02)


# ---- sweeps ---------------------------------------------------------------------------------
def test_sweep_grid_matches_pointwise_solves(scen):
    hy = rp.TransLassoHyper(0.3, 0.1, 0.0, 0.0)
    kappas, dlams = [0.0, 0.5, 1.0], [0.0, 0.3]
    df = rp.sweep(scen, hy, vary={"kappa": kappas, "dlam": dlams}, progress=False)
    assert len(df) == 6 and (df["status"] == "ok").all()
    assert list(df["kappa"]) == [0.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    for _, row in df.iterrows():
        ref = rp.solve_trans_lasso(scen, hy.replace(kappa=row.kappa, dlam=row.dlam))
        assert row.eps2 == pytest.approx(ref.eps2, rel=1e-8)


def test_sweep_over_scenario_fields_and_flags_failures(scen):
    hy = rp.TransLassoHyper(0.3, 0.0, 0.0, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rp.ConvergenceWarning)
        df = rp.sweep(scen, hy, vary={"alpha_0": [0.5, 1.5, 2.0]}, progress=False)
    assert df["status"].iloc[0].startswith("NotIdentifiableError")  # OLS with alpha_0 < 1
    assert (df["status"].iloc[1:] == "ok").all()
    np.testing.assert_allclose(df["mse2"].iloc[1:], 0.01 / (np.array([1.5, 2.0]) - 1), rtol=1e-8)
    with pytest.raises(ValueError, match="unknown parameter"):
        rp.sweep(scen, hy, vary={"nope": [1.0]})


# ---- optimisation and the selection rule -------------------------------------------------
def test_optimize_reaches_dlam_zero_exactly():
    """Disjoint supports: the pretrained support misleads, so the best dlam is exactly 0."""
    sc = rp.TransferScenario((0.5, 4.0), (0.1, 0.1), rp.support_prior(0.0, [0.1, 0.1]))
    opt = rp.optimize(sc, over=("lam2", "dlam"), fixed={"kappa": 0.0}, lam1="pooled")
    assert opt.hyper.dlam == 0.0
    # and it is a minimum: nearby points are not better
    for d in (0.01, 0.05):
        r = rp.solve_trans_lasso(sc, opt.hyper.replace(dlam=d))
        assert r.eps2 >= opt.eps2 - 1e-12


def test_zero_mean_folding_matches_full_integration():
    """Zero-mean classes are integrated over h >= 0 and doubled; a 1e-12 mean takes the
    unfolded path and must give the same fixed point."""
    base = rp.support_prior(0.1, [0.03, 0.02], corr=0.6)
    shifted = rp.GaussianMixturePrior(base.weights, base.means + 1e-12, base.covs)
    hy = rp.TransLassoHyper(0.3, 0.08, 0.7, 0.4)
    a = rp.solve_trans_lasso(rp.TransferScenario((0.6, 3.0), (0.1, 0.2), base), hy)
    b = rp.solve_trans_lasso(rp.TransferScenario((0.6, 3.0), (0.1, 0.2), shifted), hy)
    for q in ("Q2", "m2", "R", "chi2", "chi12", "eps2"):
        assert getattr(a, q) == pytest.approx(getattr(b, q), rel=1e-8), q


def test_optimize_respects_a_positive_dlam_lower_bound(prior_p1):
    sc = rp.TransferScenario((1, 2), (0.5, 0.5), prior_p1)
    opt = rp.optimize(sc, ("lam2", "dlam"), {"kappa": 0.0}, lam1=0.3,
                      bounds={"dlam": (0.5, 2.0)}, n_grid=5)
    assert 0.5 - 1e-9 <= opt.hyper.dlam <= 2.0 + 1e-9
    with pytest.raises(ValueError, match="n_grid"):
        rp.optimize(sc, ("lam2",), lam1=0.3, n_grid=1)


def test_pretraining_lasso_reaches_its_small_alpha_limit(scen):
    """kappa = 1 - a, dlam = lam2 (1/a - 1): as a -> 0 this is kappa = 1 fine-tuned on S only."""
    tab = rp.strategy_table(scen, 0.3, strategies=("pretraining_lasso",))
    row = tab.iloc[0]
    assert row["kappa"] == pytest.approx(1.0 - row["pt_alpha"])
    assert row["dlam"] == pytest.approx(row["lam2"] * (1.0 / row["pt_alpha"] - 1.0))
    limit = rp.optimize(scen, ("lam2",), {"kappa": 1.0, "dlam": math.inf}, lam1=0.3)
    assert row["eps2"] <= limit.eps2 * (1 + 1e-4)


def test_recommend_needs_the_three_strategies(scen):
    with pytest.raises(ValueError, match="recommend needs"):
        rp.recommend(scen, lam1=0.3, strategies=("dlam0", "kappa0"))


def test_sweep_names_and_scenario_columns(scen):
    with pytest.raises(ValueError, match="unknown parameter"):
        rp.sweep(scen, rp.TransLassoHyper(0.3, 0.1), vary={"alpha0": [1.0]})
    df = rp.sweep(scen, rp.TransLassoHyper(0.3, 0.1), vary={"sigma_1": [0.1, 0.3]},
                  progress=False)
    assert list(df["sigma_1"]) == [0.1, 0.3] and (df["sigma_0"] == 0.1).all()
    assert (df["alpha_0"] == 0.5).all()


def test_pretraining_lasso_finds_interior_optima():
    """The Pretraining Lasso search must not be beaten by a fixed interior a."""
    sc = rp.TransferScenario((0.5, 4.0), (0.1, 0.1), rp.support_prior(0.15, [0.05, 0.05]))
    row = rp.strategy_table(sc, 0.35786, strategies=("pretraining_lasso",)).iloc[0]
    for a in (0.3, 0.5, 0.7, 0.9):
        fixed = rp.optimize(sc, ("lam2",), {"kappa": 1 - a, "dlam": 0.0}, lam1=0.35786,
                            bounds={"lam2": (1e-3, 1.0)})
        # dlam = lam2 (1/a - 1) moves with lam2: scan lam2 directly
        best = min(
            rp.solve_trans_lasso(sc, rp.TransLassoHyper(0.35786, l2, 1 - a, l2 * (1 / a - 1))).eps2
            for l2 in np.geomspace(fixed.hyper.lam2 / 4, fixed.hyper.lam2 * 4, 25)
        )
        assert row["eps2"] <= best + 1e-9, (a, row["eps2"], best)

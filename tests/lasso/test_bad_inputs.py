"""Bad-input table for the public API of :mod:`lasso`: every entry must raise the stated error
type with a message naming the offending field (issue 8: no raw numpy traceback, no silent
NaN, no arbitrary answer)."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from lasso import (
    CDSettings,
    GeneralizedTransLasso,
    GeneralizedTransLassoCV,
    NotIdentifiableError,
    PooledLasso,
    PretrainingLasso,
    TargetLasso,
    TransLasso,
    fit_two_stage,
    q_aggregate,
    solve_weighted_lasso,
    solve_weighted_lasso_gram,
)

_rng = np.random.default_rng(0)
X0, y0 = _rng.standard_normal((20, 10)), _rng.standard_normal(20)
X1, y1 = _rng.standard_normal((40, 10)), _rng.standard_normal(40)
T, S = (X0, y0), [(X1, y1)]
XS, YS = np.vstack([X0, X1]), np.concatenate([y0, y1])
GS = np.r_[np.zeros(20), np.ones(40)]
# wide target (40 features, 10 target rows, 30 source rows): unpenalised fits not identifiable
W0, v0 = _rng.standard_normal((10, 40)), _rng.standard_normal(10)
W1, v1 = _rng.standard_normal((30, 40)), _rng.standard_normal(30)
WT, WS = (W0, v0), [(W1, v1)]


def _with(a, idx, value):
    a = np.array(a, dtype=float)
    a[idx] = value
    return a


def _fitted():
    return GeneralizedTransLasso(0.3, 0.1).fit(T, S)


def _gtl(**kw):
    return lambda: GeneralizedTransLasso(**{"lam1": 0.3, "lam2": 0.1, **kw}).fit(T, S)


def _cv(**kw):
    base = dict(lam1=0.3, lam2_grid=[0.3, 0.1], kappa_grid=[0.0, 1.0], dlam_grid=[0.0],
                cv=3, progress=False)
    return lambda: GeneralizedTransLassoCV(**{**base, **kw}).fit(T, S)


def _tl(**kw):
    return lambda: TransLasso(**{"lam1": 0.3, "lam2": 0.1, **kw}).fit(T, S)


def _solve(**kw):
    A, b = X0, y0
    args = {"weights": 0.1, **kw}
    A = args.pop("A", A)
    b = args.pop("b", b)
    return lambda: solve_weighted_lasso(A, b, **args)


V = ValueError
CASES = [
    # ---- GeneralizedTransLasso parameters
    ("gtl lam1 < 0", _gtl(lam1=-0.5), V, r"lam1 = -0.5"),
    ("gtl lam2 < 0", _gtl(lam2=-0.5), V, r"lam2 = -0.5"),
    ("gtl dlam < 0", _gtl(dlam=-0.5), V, r"dlam = -0.5"),
    ("gtl lam1 string", _gtl(lam1="abc"), V, r"lam1 = 'abc'"),
    ("gtl lam1 nan", _gtl(lam1=np.nan), V, r"lam1 = nan"),
    ("gtl lam1 inf", _gtl(lam1=np.inf), V, r"lam1 = inf"),
    ("gtl lam2 None", _gtl(lam2=None), V, r"lam2 = None"),
    ("gtl kappa string", _gtl(kappa="1"), V, r"kappa = '1'"),
    ("gtl kappa nan", _gtl(kappa=np.nan), V, r"kappa = nan"),
    ("gtl kappa inf", _gtl(kappa=np.inf), V, r"kappa = inf"),
    ("gtl kappa None", _gtl(kappa=None), V, r"kappa = None"),
    ("gtl kappa list", _gtl(kappa=[1.0, 2.0]), V, r"kappa = \[1.0, 2.0\]"),
    ("gtl solver", _gtl(solver="glmnet"), V, r"solver = 'glmnet'"),
    ("gtl max_iter 0", _gtl(max_iter=0), V, r"max_iter = 0"),
    ("gtl max_iter < 0", _gtl(max_iter=-5), V, r"max_iter = -5"),
    ("gtl max_iter float", _gtl(max_iter=2.5), V, r"max_iter = 2.5"),
    ("gtl max_iter string", _gtl(max_iter="10"), V, r"max_iter = '10'"),
    ("gtl tol 0", _gtl(tol=0), V, r"tol = 0"),
    ("gtl tol < 0", _gtl(tol=-1e-3), V, r"tol = -0.001"),
    ("gtl tol nan", _gtl(tol=np.nan), V, r"tol = nan"),
    # ---- data, dataset form
    ("target X nan", lambda: GeneralizedTransLasso().fit((_with(X0, (3, 1), np.nan), y0), S),
     V, r"target: X contains NaN"),
    ("target y nan", lambda: GeneralizedTransLasso().fit((X0, _with(y0, 2, np.nan)), S),
     V, r"target: y contains NaN"),
    ("source X inf", lambda: GeneralizedTransLasso().fit(T, [(_with(X1, (0, 0), np.inf), y1)]),
     V, r"sources\[0\] \(dataset 1\): X contains inf"),
    ("source y -inf", lambda: GeneralizedTransLasso().fit(T, [(X1, _with(y1, 5, -np.inf))]),
     V, r"sources\[0\] \(dataset 1\): y contains inf"),
    ("target X 1-D", lambda: TargetLasso().fit((np.ones(5), np.ones(5))), V,
     r"target: X must be a 2-D"),
    ("target y 2-D", lambda: TargetLasso().fit((X0, np.ones((20, 2)))), V,
     r"target: y must be a 1-D"),
    ("length mismatch", lambda: GeneralizedTransLasso().fit((X0, y0[:-1]), S), V,
     r"target: X has 20 rows but y has 19"),
    ("no target rows", lambda: GeneralizedTransLasso().fit((X0[:0], y0[:0]), S), V,
     r"target: dataset has no rows"),
    ("feature mismatch", lambda: GeneralizedTransLasso().fit(T, [(X1[:, :7], y1)]), V,
     r"sources\[0\] has 7 features but the target has 10"),
    ("sources empty", lambda: GeneralizedTransLasso().fit(T, []), V, r"sources is empty"),
    ("pooled sources empty", lambda: PooledLasso().fit(T, []), V, r"sources is empty"),
    ("pretraining sources empty", lambda: PretrainingLasso().fit(T, []), V,
     r"sources is empty"),
    ("single pair as sources", lambda: GeneralizedTransLasso().fit(T, (X1, y1)), V,
     r"sources must be a list .* wrap it in"),
    ("sources a number", lambda: GeneralizedTransLasso().fit(T, 5), V,
     r"sources must be a list"),
    ("source triple", lambda: GeneralizedTransLasso().fit(T, [(X1, y1, y1)]), V,
     r"sources\[0\] \(dataset 1\) must be a pair"),
    ("target sparse", lambda: GeneralizedTransLasso().fit((sp.csr_matrix(X0), y0), S),
     TypeError, r"target: X is a scipy.sparse"),
    ("source sparse", lambda: GeneralizedTransLasso().fit(T, [(sp.csc_array(X1), y1)]),
     TypeError, r"sources\[0\] \(dataset 1\): X is a scipy.sparse"),
    ("target complex", lambda: TargetLasso().fit((X0 + 1j, y0)), V, r"target: X is complex"),
    ("target strings", lambda: TargetLasso().fit((np.full((3, 2), "a"), np.ones(3))), V,
     r"target: X must be a numeric array"),
    # ---- data, stacked form
    ("stacked sparse", lambda: GeneralizedTransLasso().fit(sp.csr_matrix(XS), YS, groups=GS),
     TypeError, r"[Ss]parse data was passed for X"),
    ("stacked X nan", lambda: GeneralizedTransLasso().fit(_with(XS, (0, 0), np.nan), YS), V,
     r"Input X contains NaN"),
    ("stacked y inf", lambda: GeneralizedTransLasso().fit(XS, _with(YS, 0, np.inf)), V,
     r"Input y contains infinity"),
    ("stacked y missing", lambda: GeneralizedTransLasso().fit(XS), V, r"requires y"),
    ("groups length", lambda: GeneralizedTransLasso().fit(XS, YS, groups=GS[:-1]), V,
     r"groups has shape \(59,\)"),
    ("groups 2-D", lambda: GeneralizedTransLasso().fit(XS, YS, groups=GS[:, None]), V,
     r"groups has shape \(60, 1\)"),
    ("target_group absent",
     lambda: GeneralizedTransLasso(target_group=5).fit(XS, YS, groups=GS), V,
     r"target_group = 5 labels no row of groups"),
    ("both data forms", lambda: GeneralizedTransLasso().fit(XS, YS, target=T, sources=S), V,
     r"not both"),
    ("groups with pairs", lambda: GeneralizedTransLasso().fit(T, S, groups=GS), V,
     r"not both"),
    ("score target_group absent",
     lambda: _fitted().score(XS, YS, groups=GS + 7), V, r"target_group = 0 labels no row"),
    # ---- predict
    ("predict nan", lambda: _fitted().predict(_with(X0, (1, 1), np.nan)), V,
     r"Input X contains NaN"),
    ("predict inf", lambda: _fitted().predict(_with(X0, (1, 1), np.inf)), V,
     r"Input X contains infinity"),
    ("predict features", lambda: _fitted().predict(X0[:, :5]), V,
     r"X has 5 features, but GeneralizedTransLasso is expecting 10"),
    ("predict 1-D", lambda: _fitted().predict(X0[0]), V, r"2D array"),
    ("predict sparse", lambda: _fitted().predict(sp.csr_matrix(X0)), TypeError,
     r"[Ss]parse data was passed for X"),
    ("predict unfitted", lambda: GeneralizedTransLasso().predict(X0), NotFittedError,
     r"GeneralizedTransLasso instance is not fitted"),
    # ---- identifiability (issue 8: no arbitrary interpolator marked converged)
    # lam1 = 10: a one-coordinate stage-1 support, yet stage 2 frees all 40 coordinates
    ("gtl lam2=0 dlam=0 wide", lambda: GeneralizedTransLasso(10.0, 0.0, 1.0, 0.0).fit(WT, WS),
     NotIdentifiableError, r"lam2 = 0 with dlam = 0 .*40 features and only 10 rows"),
    ("gtl lam2=0 kappa=0 wide", lambda: GeneralizedTransLasso(10.0, 0.0, 0.0, 0.0).fit(WT, WS),
     NotIdentifiableError, r"lam2 = 0 with dlam = 0"),
    ("gtl lam2=0 empty support", lambda: GeneralizedTransLasso(50.0, 0.0, 1.0, 0.0)
     .fit(WT, WS), NotIdentifiableError, r"lam2 = 0 with dlam = 0"),
    ("gtl lam2=0 support wide", lambda: GeneralizedTransLasso(1e-4, 0.0, 1.0, 0.3).fit(WT, WS),
     NotIdentifiableError, r"lam2 = 0 with dlam = 0.3 \(stage 2, on the stage-1 support\)"),
    ("gtl lam1=0 wide", lambda: GeneralizedTransLasso(0.0, 0.1).fit(WT, [(W1[:20], v1[:20])]),
     NotIdentifiableError, r"lam1 = 0 leaves 40 coordinates .*40 features and only 30 rows"),
    # 40 pooled rows for 40 features, but centring two datasets leaves rank <= 38
    ("gtl lam1=0 intercept", lambda: GeneralizedTransLasso(0.0, 0.1, fit_intercept=True)
     .fit(WT, WS), NotIdentifiableError, r"lam1 = 0 .*40 features and only 38 rows"),
    ("target lam=0 wide", lambda: TargetLasso(0.0).fit(WT), NotIdentifiableError,
     r"lam = 0 .*40 features and only 10 rows"),
    ("pooled lam=0 wide", lambda: PooledLasso(0.0).fit((W0, v0), [(W1[:20], v1[:20])]),
     NotIdentifiableError, r"lam = 0 .*40 features and only 30 rows"),
    ("pretraining lam2=0 alpha=1", lambda: PretrainingLasso(1.0, 0.1, 0.0).fit(WT, WS),
     NotIdentifiableError, r"lam2 = 0"),
    ("translasso lam2=0", lambda: TransLasso(0.1, 0.0, informative="all").fit(WT, WS),
     NotIdentifiableError, r"lam2 = 0"),
    ("translasso target-only lam2=0", lambda: TransLasso(0.1, 0.0, informative=[]).fit(WT, WS),
     NotIdentifiableError, r"lam2 = 0"),
    ("fit_two_stage lam2=0", lambda: fit_two_stage(WT, WS, 0.1, 0.0, 0.5, 0.0),
     NotIdentifiableError, r"lam2 = 0"),
    ("fit_two_stage kappa str", lambda: fit_two_stage(T, S, 0.1, 0.1, "a", 0.0), V,
     r"kappa = 'a'"),
    # ---- TargetLasso / PooledLasso / PretrainingLasso parameters
    ("target lam < 0", lambda: TargetLasso(-1.0).fit(T), V, r"lam = -1.0"),
    ("target max_iter 0", lambda: TargetLasso(max_iter=0).fit(T), V, r"max_iter = 0"),
    ("pooled lam string", lambda: PooledLasso("x").fit(T, S), V, r"lam = 'x'"),
    ("pretraining alpha > 1", lambda: PretrainingLasso(alpha=1.5).fit(T, S), V,
     r"alpha = 1.5"),
    ("pretraining alpha < 0", lambda: PretrainingLasso(alpha=-0.1).fit(T, S), V,
     r"alpha = -0.1"),
    ("pretraining alpha string", lambda: PretrainingLasso(alpha="x").fit(T, S), V,
     r"alpha = 'x'"),
    ("pretraining cv 1", lambda: PretrainingLasso(prevalidate=True, cv=1).fit(T, S), V,
     r"cv = 1"),
    ("pretraining cv > rows", lambda: PretrainingLasso(prevalidate=True, cv=100).fit(T, S),
     V, r"cv = 100"),
    ("pretraining cv float", lambda: PretrainingLasso(prevalidate=True, cv=2.5).fit(T, S), V,
     r"cv = 2.5"),
    ("pretraining max_iter", lambda: PretrainingLasso(max_iter=-1).fit(T, S), V,
     r"max_iter = -1"),
    # ---- GeneralizedTransLassoCV
    ("cv strategy", _cv(strategy="both"), V, r"strategy = 'both'"),
    ("cv old strategy name", _cv(strategy="trans"), V, r"strategy = 'trans'"),
    ("cv strategy None", _cv(strategy=None), V, r"strategy = None"),
    ("cv cv 1", _cv(cv=1), V, r"cv = 1"),
    ("cv cv float", _cv(cv=2.5), V, r"cv = 2.5"),
    ("cv cv > rows", _cv(cv=1000), V, r"cv = 1000.*n_samples = 20"),
    ("cv n_lam1 0", _cv(lam1=None, n_lam1=0), V, r"n_lam1 = 0"),
    ("cv n_lam2 0", _cv(lam2_grid=None, n_lam2=0), V, r"n_lam2 = 0"),
    ("cv n_lam2 < 0", _cv(lam2_grid=None, n_lam2=-3), V, r"n_lam2 = -3"),
    ("cv n_lam2 float", _cv(lam2_grid=None, n_lam2=2.5), V, r"n_lam2 = 2.5"),
    ("cv lam2_eps 0", _cv(lam2_grid=None, lam2_eps=0), V, r"lam2_eps = 0"),
    ("cv lam2_eps < 0", _cv(lam2_grid=None, lam2_eps=-1), V, r"lam2_eps = -1"),
    ("cv lam1_eps 0", _cv(lam1=None, lam1_eps=0.0), V, r"lam1_eps = 0.0"),
    ("cv lam1_eps > 1", _cv(lam1=None, lam1_eps=2.0), V, r"lam1_eps = 2.0: must lie in"),
    ("cv gram string", _cv(gram="yes"), V, r"gram = 'yes'"),
    ("cv gram None", _cv(gram=None), V, r"gram = None"),
    ("cv gram int", _cv(gram=2), V, r"gram = 2"),
    ("cv lam1_cv", _cv(lam1=None, lam1_cv="both"), V, r"lam1_cv = 'both'"),
    ("cv lam2_grid negative", _cv(lam2_grid=[1.0, -1.0]), V, r"lam2_grid\[1\] = -1.0"),
    ("cv lam2_grid empty", _cv(lam2_grid=[]), V, r"lam2_grid must be a non-empty"),
    ("cv lam2_grid nested", _cv(lam2_grid=[[1.0, 2.0], [3.0, 4.0]]), V,
     r"lam2_grid must be a 1-D"),
    ("cv lam2_grid string", _cv(lam2_grid="abc"), V, r"lam2_grid must be a 1-D"),
    ("cv kappa_grid string entry", _cv(kappa_grid=[0.0, "a"]), V, r"kappa_grid\[1\] = 'a'"),
    ("cv kappa_grid nan", _cv(kappa_grid=[np.nan]), V, r"kappa_grid\[0\] = nan"),
    ("cv dlam_grid negative", _cv(dlam_grid=[-1.0]), V, r"dlam_grid\[0\] = -1.0"),
    ("cv pt_alpha_grid > 1", _cv(pt_alpha_grid=[1.5]), V, r"pt_alpha_grid\[0\] = 1.5"),
    ("cv pt_alpha_grid < 0", _cv(pt_alpha_grid=[-0.5]), V, r"pt_alpha_grid\[0\] = -0.5"),
    ("cv lam1 < 0", _cv(lam1=-1.0), V, r"lam1 = -1.0"),
    ("cv lam1_grid nan", _cv(lam1=None, lam1_grid=[1.0, np.nan]), V, r"lam1_grid\[1\] = nan"),
    ("cv max_iter 0", _cv(max_iter=0), V, r"max_iter = 0"),
    ("cv tol 0", _cv(tol=0.0), V, r"tol = 0.0"),
    ("cv progress string", _cv(progress="yes"), V, r"progress = 'yes'"),
    ("cv progress < 0", _cv(progress=-1.0), V, r"progress = -1.0"),
    ("cv n_jobs 0", _cv(n_jobs=0), V, r"n_jobs = 0"),
    ("cv n_jobs string", _cv(n_jobs="2"), V, r"n_jobs = '2'"),
    ("cv solver", _cv(solver="glmnet"), V, r"solver = 'glmnet'"),
    ("cv lam2_grid zero wide",
     lambda: GeneralizedTransLassoCV(lam1=0.1, lam2_grid=[0.0], kappa_grid=[1.0],
                                     dlam_grid=[0.0], pt_alpha_grid=[0.5], cv=2,
                                     progress=False).fit(WT, WS),
     NotIdentifiableError, r"lam2 = 0"),
    ("cv sources empty", lambda: GeneralizedTransLassoCV(progress=False).fit(T, []), V,
     r"sources is empty"),
    ("cv strategy_table unknown",
     lambda: _cv()().strategy_table(("full", "foo")), V, r"strategy = 'foo'"),
    # ---- TransLasso
    ("translasso lam1 string", _tl(lam1="auto"), V, r"lam1 = 'auto'"),
    ("translasso informative", _tl(informative="some"), V, r"informative = 'some'"),
    ("translasso informative range", _tl(informative=[5]), V,
     r"informative = \[5\]: indices \[5\] out of range"),
    ("translasso aggregation", _tl(aggregation="mean"), V, r"aggregation = 'mean'"),
    ("translasso heldout 0", _tl(heldout_fraction=0.0), V, r"heldout_fraction = 0.0"),
    ("translasso heldout > 1", _tl(heldout_fraction=1.5), V, r"heldout_fraction = 1.5"),
    ("translasso n_top 0", _tl(n_top=0), V, r"n_top = 0"),
    ("translasso n_top float", _tl(n_top=2.5), V, r"n_top = 2.5"),
    ("translasso total_steps 0", _tl(total_steps=0), V, r"total_steps = 0"),
    ("translasso temperature < 0", _tl(temperature=-1.0), V, r"temperature = -1.0"),
    ("translasso temperature string", _tl(temperature="hot"), V, r"temperature = 'hot'"),
    ("translasso cv 1", _tl(lam1="cv", cv=1), V, r"cv = 1"),
    ("translasso max_iter 0", _tl(max_iter=0), V, r"max_iter = 0"),
    ("translasso one target row", lambda: TransLasso(0.3, 0.1).fit((X0[:1], y0[:1]), S), V,
     r"heldout_fraction = .*n_samples = 1"),
    # ---- solver functions and settings
    ("solve weights < 0", _solve(weights=-1.0), V, r"weights must be non-negative"),
    ("solve weights nan", _solve(weights=np.nan), V, r"weights must be non-negative"),
    ("solve weights shape", _solve(weights=np.ones(3)), V, r"weights: expected"),
    ("solve solver", _solve(solver="glmnet"), V, r"solver = 'glmnet'"),
    ("solve tol 0", _solve(tol=0.0), V, r"tol = 0.0"),
    ("solve max_iter 0", _solve(max_iter=0), V, r"max_iter = 0"),
    ("solve init shape", _solve(init=np.zeros(3)), V, r"init has shape \(3,\)"),
    ("solve init nan", _solve(init=np.full(10, np.nan)), V, r"init contains NaN"),
    ("solve A sparse", _solve(A=sp.csr_matrix(X0)), TypeError, r"A is a scipy.sparse"),
    ("solve b length", _solve(b=y0[:5]), V, r"A has shape \(20, 10\) and b \(5,\)"),
    ("gram max_iter 0", lambda: solve_weighted_lasso_gram(X0.T @ X0, X0.T @ y0, y0 @ y0, 0.1,
                                                          max_iter=0), V, r"max_iter = 0"),
    ("gram tol nan", lambda: solve_weighted_lasso_gram(X0.T @ X0, X0.T @ y0, y0 @ y0, 0.1,
                                                       tol=np.nan), V, r"tol = nan"),
    ("q_aggregate temperature 0", lambda: q_aggregate(np.eye(3), np.eye(3), np.ones(3), 0.0),
     V, r"temperature = 0.0"),
    ("q_aggregate total_steps", lambda: q_aggregate(np.eye(3), np.eye(3), np.ones(3), 1.0,
                                                    total_steps=0), V, r"total_steps = 0"),
    ("settings n_anderson", lambda: CDSettings(n_anderson=-1), V, r"n_anderson = -1"),
    ("settings inner_fraction", lambda: CDSettings(inner_fraction=0.0), V,
     r"inner_fraction = 0.0"),
    ("settings max_stalls", lambda: CDSettings(max_stalls=0), V, r"max_stalls = 0"),
]


@pytest.mark.parametrize("call,exc,match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_naming_the_field(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_table_size():
    assert len(CASES) >= 100
    assert len({c[0] for c in CASES}) == len(CASES)  # unique ids

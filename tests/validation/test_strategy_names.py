"""One vocabulary (issue 9): the strategies of the theory (``replica.recommend`` /
``replica.strategy_table``) and of the empirical CV (``lasso.GeneralizedTransLassoCV``) are the
same set of names."""

import lasso
import replica


def test_strategy_names_are_the_same_set():
    assert set(lasso.STRATEGIES) == set(replica.STRATEGIES)
    assert len(lasso.STRATEGIES) == len(set(lasso.STRATEGIES)) == 6


"""Collection rules for the lasso tests.

scikit-learn's array-API checks (``check_array_api_input*``) test estimators that accept
array-API namespaces (CuPy, torch, ...). The lasso estimators take numpy arrays only (their
numba kernels need them), so these checks do not apply: they are deselected here rather than
left to skip on the missing ``SCIPY_ARRAY_API`` variable.
"""


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        (drop if "check_array_api_input" in item.nodeid else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep

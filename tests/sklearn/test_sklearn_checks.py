"""scikit-learn's own compliance suite over both estimators, with the settings scikit-learn's
test suite gives its own MLP classes (``max_iter=100``), and no expected failures."""

import pytest

pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks

from layerwise.sklearn import MLPClassifier, MLPRegressor

# max_iter=100 stops short of convergence on some checks' data, as for scikit-learn's MLPs
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks([MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

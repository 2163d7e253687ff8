"""The layerwise estimators against scikit-learn's own MLPs (the oracle) on real data."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
import sklearn.neural_network as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import layerwise as lw
from layerwise.sklearn import MLPClassifier, MLPRegressor, from_sklearn


def _scaled(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def wine():
    return _scaled(load_wine)


@pytest.fixture(scope="module")
def diabetes():
    X, y = _scaled(load_diabetes)
    return X, (y - y.mean()) / y.std()


def _fit_quietly(estimator, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


def _same_weights(ours, theirs, atol):
    assert len(ours.coefs_) == len(theirs.coefs_)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


# Each solver with settings that exercise its schedule: sklearn's Adam, SGD with Nesterov
# momentum under invscaling, SGD with adaptive learning rate (its lr cut by 5 on a plateau).
SOLVERS = [
    {"solver": "adam"},
    {"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.05},
    {"solver": "sgd", "learning_rate": "adaptive", "momentum": 0.5, "tol": 1e-2, "n_iter_no_change": 2},
    {"solver": "lbfgs"},
]


@pytest.mark.parametrize("settings", SOLVERS, ids=lambda s: "-".join(map(str, s.values())))
def test_classifier_learns_the_weights_scikit_learn_learns(wine, settings):
    X, y = wine
    kw = dict(hidden_layer_sizes=(12, 6), random_state=0, max_iter=40, batch_size=32,
              alpha=1e-3, **settings)
    ours, theirs = _fit_quietly(MLPClassifier(**kw), X, y), _fit_quietly(sk.MLPClassifier(**kw), X, y)
    assert ours.n_iter_ == theirs.n_iter_
    _same_weights(ours, theirs, atol=1e-9)
    if settings["solver"] != "lbfgs":
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-10)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-9)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_regressor_with_sample_weights_and_early_stopping_matches(diabetes, activation):
    X, y = diabetes
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    kw = {"hidden_layer_sizes": (16,), "activation": activation, "random_state": 1, "max_iter": 60,
              "early_stopping": True, "n_iter_no_change": 5, "learning_rate_init": 0.01}
    ours = _fit_quietly(MLPRegressor(**kw), X, y, sample_weight=w)
    theirs = _fit_quietly(sk.MLPRegressor(**kw), X, y, sample_weight=w)
    assert ours.n_iter_ == theirs.n_iter_ and ours.out_activation_ == "identity"
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, atol=1e-10)
    _same_weights(ours, theirs, atol=1e-9)  # the best epoch's weights restored, as sklearn


def test_binary_multilabel_and_poisson_outputs_match(wine):
    X, y = wine
    for est, y_fit in [(MLPClassifier, y == 0), (MLPClassifier, np.stack([y == 0, y == 1], 1)),
                       (MLPRegressor, np.abs(X[:, 0]).round())]:
        kw = {"hidden_layer_sizes": (8,), "random_state": 0, "max_iter": 30}
        if est is MLPRegressor:
            kw["loss"] = "poisson"
        ours = _fit_quietly(est(**kw), X, y_fit)
        theirs = _fit_quietly(getattr(sk, est.__name__)(**kw), X, y_fit)
        assert ours.out_activation_ == theirs.out_activation_
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
        if est is MLPClassifier:
            np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        else:
            np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-12)


def test_float32_stays_float32(wine):
    X, y = wine
    clf = _fit_quietly(MLPClassifier((8,), max_iter=5, random_state=0), X.astype(np.float32), y)
    assert clf.coefs_[0].dtype == np.float32 and clf.predict_proba(X).dtype == np.float32
    assert clf.model_.layers[0].W.data.dtype == np.float32


def test_partial_fit_continues_where_it_stopped(wine):
    X, y = wine
    ours, theirs = MLPClassifier((8,), random_state=0), sk.MLPClassifier((8,), random_state=0)
    for _ in range(3):
        for est in (ours, theirs):
            est.partial_fit(X[:100], y[:100], classes=np.unique(y))
    _same_weights(ours, theirs, atol=1e-12)
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    with pytest.raises(ValueError, match="classes not in"):
        ours.partial_fit(X, np.where(y == 2, 7, y))


def test_model_is_a_layerwise_mlp_with_the_estimators_outputs(wine, tmp_path):
    X, y = wine
    clf = _fit_quietly(MLPClassifier((10,), max_iter=20, random_state=0), X, y)
    model = clf.model_
    assert isinstance(model, lw.nn.MLP) and model.layer_sizes == [13, 10, 3]
    np.testing.assert_array_equal(model(X).data, clf.predict_proba(X))
    pytest.importorskip("safetensors")
    reloaded = lw.load(lw.save(model, tmp_path / "wine.safetensors"))
    np.testing.assert_array_equal(reloaded(X).data, clf.predict_proba(X))
    assert lw.summary(model, (1, 13)).total_params == model.num_parameters()


def test_bad_parameters_fail_with_scikit_learns_messages(wine):
    X, y = wine
    with pytest.raises(ValueError, match="'solver' parameter of MLPClassifier must be"):
        MLPClassifier(solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be > 0"):
        MLPClassifier(hidden_layer_sizes=(4, 0)).fit(X, y)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPRegressor(early_stopping=True).partial_fit(X, y.astype(float))


def test_pipeline_grid_search_and_cross_validation_on_real_data():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier((16,), max_iter=60, random_state=0))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.93
    search = GridSearchCV(pipe, {"mlp__alpha": [1e-4, 1.0], "mlp__hidden_layer_sizes": [(8,), (16,)]},
                          cv=3)
    _fit_quietly(search, X, y)
    assert set(search.best_params_) == {"mlp__alpha", "mlp__hidden_layer_sizes"}
    assert search.best_score_ > 0.93
    assert isinstance(search.best_estimator_["mlp"].model_, lw.nn.MLP)


def test_accuracy_comparable_to_scikit_learn_with_defaults():
    X, y = load_breast_cancer(return_X_y=True)
    ours = make_pipeline(StandardScaler(), MLPClassifier(random_state=0, max_iter=50))
    theirs = make_pipeline(StandardScaler(), sk.MLPClassifier(random_state=0, max_iter=50))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a, b = cross_val_score(ours, X, y, cv=3), cross_val_score(theirs, X, y, cv=3)
    assert a.mean() > 0.95 and abs(a.mean() - b.mean()) < 0.02


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("task", ["multiclass", "binary", "multilabel", "regression"])
def test_from_sklearn_gives_the_same_outputs(wine, activation, task):
    X, y = wine
    if task == "regression":
        est, target, expected = sk.MLPRegressor, X[:, :2] + X[:, 2:4], "predict"
    else:
        est, expected = sk.MLPClassifier, "predict_proba"
        target = {"multiclass": y, "binary": y == 1,
                  "multilabel": np.stack([y == 0, y == 2], 1)}[task]
    fitted = _fit_quietly(est(hidden_layer_sizes=(7, 5), activation=activation, max_iter=20, random_state=0),
                          X, target)
    model = from_sklearn(fitted)
    want = getattr(fitted, expected)(X)
    want = want[:, 1:] if task == "binary" else want
    np.testing.assert_allclose(model(X).data, want, rtol=0, atol=1e-12)
    assert model(X).data.dtype == np.float64


def test_from_sklearn_refuses_what_it_cannot_convert(diabetes):
    with pytest.raises(ValueError, match="not a fitted scikit-learn MLP"):
        from_sklearn(sk.MLPClassifier())
    X, y = diabetes
    poisson = _fit_quietly(sk.MLPRegressor(loss="poisson", hidden_layer_sizes=(4,), max_iter=5), X, np.abs(y))
    with pytest.raises(ValueError, match="'exp' has no layerwise layer"):
        from_sklearn(poisson)

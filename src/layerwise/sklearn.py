"""scikit-learn estimators trained by layerwise: ``MLPClassifier``, ``MLPRegressor``.

Drop-in replacements for ``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor``: the
same parameters (names, order, defaults and validation, read from scikit-learn's own
classes), the same fitted attributes (``coefs_`` and ``intercepts_`` in the ``(n_in, n_out)``
layout, ``loss_curve_``, ``best_loss_``, ``n_iter_``, ``classes_``, ``out_activation_``, ...)
and the same training semantics, computed by layerwise's autodiff and optimisers:

* initial weights drawn as scikit-learn draws them (Glorot uniform from ``random_state``);
* per mini-batch, the loss ``sum_i w_i l_i / sum_i w_i + alpha/2 ||W||^2 / sum_i w_i``
  (``w`` the sample weights, 1 without them), with ``l_i`` half the squared error (mean over
  outputs), the log-loss of the softmax or the logistic outputs, or half the Poisson deviance;
  ``solver='sgd'`` and ``'adam'`` step ``lw.optim.SGD`` / ``lw.optim.Adam`` with
  scikit-learn's update rules (its Adam puts epsilon outside the bias correction, its momentum
  keeps the learning rate inside the velocity); ``'lbfgs'`` runs SciPy's L-BFGS-B on the
  whole data;
* the stopping rule on ``tol`` / ``n_iter_no_change`` (on the training loss, or on the
  validation score with ``early_stopping``), the learning-rate schedules, and the
  ``ConvergenceWarning`` when ``max_iter`` is reached.

With the same ``random_state`` they therefore learn the same weights as scikit-learn's
classes, up to rounding. Sparse ``X`` is accepted and densified a mini-batch at a time (all
of it for ``'lbfgs'``). ``model_`` is the fitted network as a ``lw.MLP`` (its output layer
applies ``out_activation_``), so ``lw.save``, ``lw.summary``, ``lw.graph`` and the ONNX and
PyTorch converters apply to it. ``from_sklearn`` turns a fitted scikit-learn MLP into a
``lw.MLP`` with the same outputs.

>>> import numpy as np
>>> from layerwise.sklearn import MLPClassifier
>>> X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]] * 10)
>>> y = np.array([0, 1, 1, 0] * 10)
>>> clf = MLPClassifier((16,), solver='lbfgs', random_state=0).fit(X, y)
>>> clf.predict([[0., 1.], [1., 1.]])
array([1, 0])
"""

from __future__ import annotations

import math
import warnings

import numpy as np

try:
    import sklearn.neural_network as _sk
    from scipy import sparse as _sparse
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils import check_random_state, gen_batches, shuffle
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import (
        _check_partial_fit_first_call,
        type_of_target,
        unique_labels,
    )
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d
except ImportError:
    raise ImportError("layerwise.sklearn needs scikit-learn: pip install 'layerwise[sklearn]'"
                      ) from None
try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6
    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

from . import functional as F
from . import optim
from .autodiff.tensor import Tensor, no_grad
from .nn import MLP

__all__ = ["MLPClassifier", "MLPRegressor", "from_sklearn"]

# scikit-learn's activation names -> layerwise's
HIDDEN_ACTIVATIONS = {"identity": "none", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
OUTPUT_ACTIVATIONS = {"identity": "none", "logistic": "sigmoid", "softmax": "softmax",
                      "exp": "none"}  # Poisson: model_ outputs log(mean), predict exponentiates
_STOCHASTIC = ("sgd", "adam")
_PREDICT_ROWS = 8192  # rows per forward pass when predicting (bounds memory on sparse input)


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: the network, the loss and the solvers."""

    def _fit(self, X, y, sample_weight=None, incremental=False):
        if hasattr(self, "_validate_params"):  # scikit-learn's own checks of the parameters
            self._validate_params()
        hidden = self.hidden_layer_sizes
        hidden = list(hidden) if hasattr(hidden, "__iter__") else [hidden]
        if any(h <= 0 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {hidden}.")
        first = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        Y = Y.astype(X.dtype)
        if _sparse.issparse(X):
            X = X.tocsr()  # row slices per batch
        self._random_state = check_random_state(self.random_state)
        if first:
            self._initialize(Y, [X.shape[1], *hidden, Y.shape[1]], X.dtype)
        if self.solver in _STOCHASTIC:
            self._fit_stochastic(X, Y, sample_weight, incremental)
        else:
            self._fit_lbfgs(X, Y, sample_weight)
        if not all(np.isfinite(p.data).all() for p in self.model_.parameters()):
            raise ValueError("Solver produced non-finite parameter weights. The input data may"
                             " contain large values and need to be preprocessed.")
        return self

    def _initialize(self, Y, layer_units, dtype):
        """The network, with scikit-learn's Glorot-uniform draws in scikit-learn's order."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        self.model_ = MLP(layer_units, HIDDEN_ACTIVATIONS[self.activation],
                          OUTPUT_ACTIVATIONS[self.out_activation_], init="zeros", dtype=dtype)
        factor = 2.0 if self.activation == "logistic" else 6.0
        for layer in self.model_.layers:
            bound = np.sqrt(factor / (layer.n_input + layer.n_output))
            layer.W.data[...] = self._random_state.uniform(-bound, bound, layer.W.shape)
            layer.b.data[...] = self._random_state.uniform(-bound, bound, layer.n_output)
        self._best_state = self.model_.state_dict()
        if self.solver in _STOCHASTIC:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    # ------------------------------------------------------------------- fitted weights
    @property
    def coefs_(self) -> list:
        """The weight matrices, ``coefs_[i]`` of shape ``(n_in, n_out)`` (views of model_'s)."""
        return [layer.W.data for layer in self._fitted_model().layers]

    @property
    def intercepts_(self) -> list:
        """The bias vectors, ``intercepts_[i]`` of shape ``(n_out,)`` (views of model_'s)."""
        return [layer.b.data.reshape(-1) for layer in self._fitted_model().layers]

    def _fitted_model(self):
        try:
            return self.__dict__["model_"]
        except KeyError:  # AttributeError, so hasattr(est, 'coefs_') is False before fit
            raise AttributeError(f"This {type(self).__name__} instance is not fitted yet"
                                 ) from None

    # --------------------------------------------------------------------------- loss
    def _logits(self, X):
        """The output layer's pre-activation Z (a Tensor), the rest of model_ as it is."""
        layers = list(self.model_.layers)
        h = X
        for layer in layers[:-1]:
            h = layer(h)
        return F.linear(h, layers[-1].W, layers[-1].b)

    def _loss(self, X, Y, sample_weight):
        """scikit-learn's objective on rows ``X`` (Tensor): the weighted mean loss plus
        ``alpha/2 ||W||^2``, both divided by the rows' total weight."""
        Z = self._logits(X)
        out = self.out_activation_
        if out == "softmax":
            losses = F.cross_entropy(Y.argmax(axis=1), Z, reduction="none")
        elif out == "logistic":
            losses = F.binary_cross_entropy_with_logits(Y, Z, reduction="none").sum(axis=1)
        elif out == "exp":  # half Poisson deviance y log(y/mu) - y + mu, mu = exp(Z)
            constant = np.sum(np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1)), 0) - Y, axis=1)
            losses = (Z.exp() - Y * Z).sum(axis=1) + constant
        else:
            losses = F.mse_loss(Y, Z, reduction="none").mean(axis=1) * 0.5
        if sample_weight is None:
            total, weight = losses.sum(), len(Y)
        else:
            sample_weight = sample_weight.astype(Z.dtype, copy=False)
            total, weight = (losses * sample_weight).sum(), sample_weight.sum()
        penalty = sum((layer.W * layer.W).sum() for layer in self.model_.layers)
        return (total + (0.5 * self.alpha) * penalty) / weight

    # ------------------------------------------------------------------------ solvers
    def _fit_stochastic(self, X, Y, sample_weight, incremental):  # noqa: C901 - follows scikit-learn's own _fit_stochastic step by step
        params = self.model_.parameters()
        if not incremental or not hasattr(self, "_optimizer"):
            if self.solver == "sgd":
                self._optimizer = optim.SGD(params, lr=self.learning_rate_init,
                                            momentum=self.momentum,
                                            nesterov=self.nesterovs_momentum and self.momentum > 0)
            else:
                self._optimizer = optim.Adam(params, lr=self.learning_rate_init,
                                             betas=(self.beta_1, self.beta_2), eps=self.epsilon)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping:
            stratify = Y if is_classifier(self) and self.n_outputs_ == 1 else None
            parts = train_test_split(X, Y, *(() if sample_weight is None else (sample_weight,)),
                                     random_state=self._random_state,
                                     test_size=self.validation_fraction, stratify=stratify)
            X_train, X_val, Y_train, Y_val = parts[:4]
            w_train, w_val = parts[4:] if sample_weight is not None else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            y_val = self._targets_of(Y_val)
        else:
            X_train, Y_train, w_train = X, Y, sample_weight
            X_val = y_val = w_val = None

        n = X_train.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                              "going to be clipped", stacklevel=3)
            batch_size = int(np.clip(self.batch_size, 1, n))
        order = np.arange(n)
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    order = shuffle(order, random_state=self._random_state)
                accumulated = 0.0
                for rows in gen_batches(n, batch_size):
                    index = order[rows] if self.shuffle else rows
                    loss = self._loss(Tensor(_dense(X_train[index])), Y_train[index],
                                      None if w_train is None else w_train[index])
                    self._optimizer.zero_grad()
                    loss.backward()
                    self._step()
                    accumulated += float(loss.data) * (rows.stop - rows.start)
                self.n_iter_ += 1
                self.loss_ = accumulated / n
                self.t_ += n
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                self._update_no_improvement_count(early_stopping, X_val, y_val, w_val)
                if self.solver == "sgd" and self.learning_rate == "invscaling":
                    self._set_lr(self.learning_rate_init / (self.t_ + 1) ** self.power_t)
                if self._no_improvement_count > self.n_iter_no_change:
                    what = "Validation score" if early_stopping else "Training loss"
                    message = (f"{what} did not improve more than tol={self.tol:f} for "
                               f"{self.n_iter_no_change} consecutive epochs.")
                    if self._trigger_stopping(message):
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                                  "reached and the optimization hasn't converged yet.",
                                  ConvergenceWarning, stacklevel=3)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=3)
        if early_stopping:
            self.model_.load_state_dict(self._best_state)

    def _step(self):
        opt = self._optimizer
        if self.solver == "adam":
            # scikit-learn's Adam adds epsilon to sqrt(v), not to sqrt(v / (1 - beta2^t)) as
            # PyTorch's does; the same update with layerwise's Adam needs this epsilon.
            t = opt.steps[0] + 1
            opt.eps = self.epsilon / math.sqrt(1.0 - self.beta_2**t)
        opt.step()

    def _set_lr(self, lr):
        """Change SGD's learning rate as scikit-learn does: its velocity already holds the old
        rate (v = momentum v - lr g), PyTorch's momentum buffer does not, so rescale it."""
        opt = self._optimizer
        for buf in opt.momentum_buffers:
            if buf is not None:
                buf *= opt.lr / lr
        opt.lr = lr

    def _trigger_stopping(self, message) -> bool:
        if self.solver == "sgd" and self.learning_rate == "adaptive":
            if self._optimizer.lr > 1e-6:
                self._set_lr(self._optimizer.lr / 5.0)
                if self.verbose:
                    print(message + f" Setting learning rate to {self._optimizer.lr:f}")
                return False
            message += " Learning rate too small. Stopping."
        if self.verbose:
            print(message)
        return True

    def _update_no_improvement_count(self, early_stopping, X_val, y_val, w_val):
        if early_stopping:
            score = self._score(X_val, y_val, w_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_state = self.model_.state_dict()
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])

    def _fit_lbfgs(self, X, Y, sample_weight):
        from scipy.optimize import minimize

        params = self.model_.parameters()
        X = Tensor(_dense(X))

        def set_flat(flat):
            start = 0
            for p in params:
                p.data[...] = flat[start:start + p.data.size].reshape(p.shape)
                start += p.data.size

        def loss_and_gradient(flat):
            set_flat(flat)
            for p in params:
                p.grad = None
            loss = self._loss(X, Y, sample_weight)
            loss.backward()
            return float(loss.data), np.concatenate([p.grad.ravel() for p in params]
                                                    ).astype(np.float64)

        result = minimize(loss_and_gradient, np.concatenate([p.data.ravel() for p in params]),
                          method="L-BFGS-B", jac=True,
                          options={"maxfun": self.max_fun, "maxiter": self.max_iter,
                                   "gtol": self.tol})
        if result.status != 0:
            warnings.warn(f"lbfgs failed to converge after {result.nit} iteration(s) "
                          f"(status={result.status}):\n{result.message}.\n\nIncrease the number "
                          "of iterations to improve the convergence (max_iter="
                          f"{self.max_iter}).", ConvergenceWarning, stacklevel=3)
        self.n_iter_ = min(result.nit, self.max_iter)
        self.loss_ = float(result.fun)
        set_flat(result.x)

    # ------------------------------------------------------------------------ predict
    def _forward(self, X, check_input=True):
        """The network's output on ``X``, ``(n, n_outputs_)``, as scikit-learn's
        ``_forward_pass_fast``, in blocks of rows (sparse input is densified per block)."""
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        if _sparse.issparse(X):
            X = X.tocsr()
        with no_grad():
            out = np.concatenate([
                np.asarray(self.model_(_dense(X[rows])).data)
                for rows in gen_batches(X.shape[0], _PREDICT_ROWS)
            ]) if X.shape[0] else np.empty((0, self.n_outputs_), X.dtype)
        return np.exp(out) if self.out_activation_ == "exp" else out

    def _score(self, X, y, sample_weight=None):
        """The validation score (accuracy or R^2) without input checks; nan if not finite."""
        prediction = self._predict(X, check_input=False)
        if prediction.dtype.kind == "f" and not np.isfinite(prediction).all():
            return np.nan
        return self._score_function(y, prediction, sample_weight=sample_weight)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC:
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                                 f"{self.solver} is not stochastic.")
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _store_parameters(estimator, arguments: dict) -> None:
    """Keep each constructor argument as the attribute of its name, unchanged (scikit-learn's
    rule for ``__init__``: the checks and ``get_params`` read them back as given)."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def _dense(X):
    return X.toarray() if _sparse.issparse(X) else X


def _sklearn_constraints(cls):
    """Give ``cls`` the parameter constraints of scikit-learn's class of the same name, so
    bad parameters fail with scikit-learn's own messages."""
    counterpart = getattr(_sk, cls.__name__)
    cls._parameter_constraints = dict(counterpart._parameter_constraints)
    return cls


@_sklearn_constraints
class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by layerwise; scikit-learn's parameters.

    Minimises the log-loss of softmax outputs (multiclass) or logistic outputs (binary and
    multilabel) plus ``alpha/2 ||W||^2``. See the module docstring for the semantics and
    ``sklearn.neural_network.MLPClassifier`` for each parameter.

    Attributes (after ``fit``): ``classes_``, ``coefs_``, ``intercepts_``, ``loss_``,
    ``loss_curve_``, ``best_loss_``, ``validation_scores_``, ``best_validation_score_``,
    ``n_iter_``, ``t_``, ``n_layers_``, ``n_outputs_``, ``out_activation_``,
    ``n_features_in_``, ``feature_names_in_`` and ``model_`` (a ``lw.MLP`` whose output is
    the positive-class probability for binary problems, else one column per class).

    >>> from sklearn.datasets import load_iris
    >>> from layerwise.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier((16,), solver='lbfgs', max_iter=300, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.95, clf.predict_proba(X[:2]).shape
    (True, (2, 3))
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000):
        _store_parameters(self, locals())

    _score_function = staticmethod(accuracy_score)

    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` ``(n_samples, n_features)`` and labels ``y`` ``(n_samples,)``
        (or a ``(n_samples, n_labels)`` indicator matrix), optionally weighting the samples."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError("warm_start can only be used where `y` has the same "
                                     "classes as in the previous call to fit. Previously got "
                                     f"{self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {classes}.")
        return X, self._label_binarizer.transform(y).astype(bool)

    def _targets_of(self, Y):
        """The labels of binarised targets (the validation split's)."""
        return self._label_binarizer.inverse_transform(Y)

    def predict(self, X):
        """The predicted classes, ``(n_samples,)`` (or an indicator matrix for multilabel)."""
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        out = self._forward(X, check_input)
        return self._label_binarizer.inverse_transform(out.ravel() if self.n_outputs_ == 1
                                                       else out)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One pass over ``(X, y)``; ``classes`` (all the labels) is needed on the first call."""
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_proba(self, X):
        """Class probabilities, ``(n_samples, n_classes)``, in the order of ``classes_``."""
        check_is_fitted(self)
        out = self._forward(X)
        if self.n_outputs_ == 1:
            out = out.ravel()
        return np.vstack([1 - out, out]).T if out.ndim == 1 else out

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``."""
        proba = self.predict_proba(X)
        return np.log(proba, out=proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"multilabel": True}


@_sklearn_constraints
class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by layerwise; scikit-learn's parameters.

    Minimises half the squared error (``loss='squared_error'``) or half the Poisson deviance
    (``loss='poisson'``, exponential output) plus ``alpha/2 ||W||^2``. See the module
    docstring and ``sklearn.neural_network.MLPRegressor``. ``model_`` (a ``lw.MLP``) outputs
    the prediction, or its logarithm for ``loss='poisson'``.

    >>> import numpy as np
    >>> from layerwise.sklearn import MLPRegressor
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1)
    >>> reg = MLPRegressor(hidden_layer_sizes=(16,), solver='lbfgs', random_state=0).fit(X, X[:, 0] ** 2)
    >>> reg.score(X, X[:, 0] ** 2) > 0.9
    True
    """

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000):
        _store_parameters(self, locals())

    _score_function = staticmethod(r2_score)

    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` ``(n_samples, n_features)`` and targets ``y``
        ``(n_samples,)`` or ``(n_samples, n_targets)``, optionally weighting the samples."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _targets_of(self, Y):
        return Y.ravel() if Y.shape[1] == 1 else Y

    def predict(self, X):
        """The predictions, ``(n_samples,)`` or ``(n_samples, n_targets)``."""
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        out = self._forward(X, check_input)
        return out.ravel() if out.shape[1] == 1 else out

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None):
        """One pass over ``(X, y)`` (stochastic solvers only)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)


# --------------------------------------------------------------------- from_sklearn
def from_sklearn(estimator, dtype=None):
    """A ``lw.MLP`` computing what a fitted scikit-learn ``MLPClassifier`` / ``MLPRegressor``
    computes: ``A_i = f(A_{i-1} @ coefs_[i] + intercepts_[i])``.

    Args:
        estimator: a fitted ``sklearn.neural_network.MLPClassifier`` or ``MLPRegressor`` (or
            one of this module's estimators); hidden activation ``identity``, ``logistic``,
            ``tanh`` or ``relu``; output ``softmax``, ``logistic`` or ``identity``.
        dtype: the model's dtype (default: that of ``coefs_``).

    Returns:
        A ``lw.MLP`` whose output equals the estimator's forward pass: ``predict_proba(X)``
        for a multiclass classifier, its positive-class column ``(n, 1)`` for a binary one (the
        label columns for multilabel), ``predict(X)`` as ``(n, n_outputs)`` for a regressor.

    Raises:
        ValueError: the estimator is not fitted, or uses an output layer layerwise lacks
            (``exp``, from ``loss='poisson'``).

    >>> import numpy as np, sklearn.neural_network as sk
    >>> from layerwise.sklearn import from_sklearn
    >>> X, y = np.random.default_rng(0).normal(size=(30, 4)), np.arange(30) % 3
    >>> est = sk.MLPClassifier((8,), solver='lbfgs', random_state=0).fit(X, y)
    >>> np.allclose(from_sklearn(est)(X).data, est.predict_proba(X))
    True
    """
    where = f"from_sklearn({type(estimator).__name__})"
    for attribute in ("coefs_", "intercepts_", "out_activation_", "activation"):
        if not hasattr(estimator, attribute):
            raise ValueError(f"{where}: not a fitted scikit-learn MLP (it has no {attribute}); "
                             "fit it first")
    hidden, output = estimator.activation, estimator.out_activation_
    if hidden not in HIDDEN_ACTIVATIONS:
        raise ValueError(f"{where}: unknown hidden activation {hidden!r}; known: "
                         f"{', '.join(HIDDEN_ACTIVATIONS)}")
    if output not in OUTPUT_ACTIVATIONS or output == "exp":
        raise ValueError(f"{where}: the output activation {output!r} has no layerwise layer; "
                         "supported: softmax, logistic, identity")
    coefs, intercepts = list(estimator.coefs_), list(estimator.intercepts_)
    sizes = [coefs[0].shape[0]] + [W.shape[1] for W in coefs]
    model = MLP(sizes, HIDDEN_ACTIVATIONS[hidden], OUTPUT_ACTIVATIONS[output], init="zeros",
                dtype=dtype or coefs[0].dtype)
    for layer, W, b in zip(model.layers, coefs, intercepts):
        layer.W.data[...] = W
        layer.b.data[...] = np.reshape(b, (1, -1))
    return model

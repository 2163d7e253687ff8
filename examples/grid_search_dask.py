"""Hyper-parameter search across a Dask cluster: GridSearchCV over layerwise's MLPClassifier.

scikit-learn's GridSearchCV runs its fits through joblib; inside ``joblib.parallel_backend
("dask")`` each (candidate, fold) fit becomes a task on the cluster's workers. The estimator
is layerwise's drop-in ``MLPClassifier`` (scikit-learn's parameters, layerwise's training),
in a Pipeline with a scaler so that every fold is scaled on its own training rows.

    python examples/grid_search_dask.py                  # a LocalCluster on this machine
    python examples/grid_search_dask.py tcp://host:8786  # a running cluster (its workers need
                                                         # layerwise and scikit-learn installed)

Needs ``pip install 'layerwise[sklearn,dask]'``. The ``if __name__ == "__main__":`` guard is
required: a LocalCluster's worker processes import this script.
"""

import sys

import joblib
from distributed import Client, LocalCluster
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import layerwise as lw
from layerwise.sklearn import MLPClassifier


def search(X_train, y_train):
    pipeline = Pipeline([("scale", StandardScaler()),
                         ("mlp", MLPClassifier(learning_rate_init=0.01, early_stopping=True,
                                               n_iter_no_change=5, random_state=0))])
    grid = {"mlp__hidden_layer_sizes": [(16,), (32, 16)], "mlp__alpha": [1e-4, 1e-1]}
    searcher = GridSearchCV(pipeline, grid, cv=3, n_jobs=-1)
    with joblib.parallel_backend("dask"):
        searcher.fit(X_train, y_train)
    return searcher


def main(address=None):
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    if address:
        client = Client(address)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0")
        client = Client(cluster)
    try:
        print(f"Cluster: {len(client.scheduler_info()['workers'])} workers")
        searcher = search(X_train, y_train)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print(f"Fits: {len(searcher.cv_results_['params'])} candidates x 3 folds")
    print(f"Best parameters: {searcher.best_params_}")
    print(f"Best cross-validated accuracy: {searcher.best_score_:.3f}")
    print(f"Test accuracy: {searcher.score(X_test, y_test):.3f}")
    # The fitted network is a layerwise model: summary, save, graph, ONNX all apply.
    print(lw.summary(searcher.best_estimator_["mlp"].model_, (1, X.shape[1])))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)

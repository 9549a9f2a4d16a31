"""Data sets for `derive fit`: scikit-learn's shipped diabetes, breast_cancer and digits (no download).

The notes' preparation, step by step: select feature columns, split with train_test_split(test_size,
random_state), divide by a constant (digits / 16, as the notes divide Fashion-MNIST by 255), fit a
StandardScaler on the training part and transform both parts. scikit-learn is an optional extra,
imported only here and only when a data set is loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from derive.core.fitspec import DATASETS, Dataset
from derive.extras import MissingExtra, require
from derive.errors import SpecError

__all__ = ["DATASETS", "Dataset", "Prepared", "MissingExtra", "require", "prepare"]


@dataclass(frozen=True)
class Prepared:
    """Training and test matrices (samples in rows) and targets as columns (one-hot when multiclass)."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray | None
    Y_test: np.ndarray | None
    task: str


def prepare(data, dtype=np.float64) -> Prepared:
    """Load and prepare a data set from validated DataSettings (see fitspec), the notes' way."""
    info = DATASETS[data.dataset]
    datasets = require("sklearn.datasets", "scikit-learn", "data")
    bunch = getattr(datasets, info.loader)()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target)
    if data.features is not None:
        X = X[:, list(data.features)]
    if data.test_size is None:
        X_train, X_test, y_train, y_test = X, None, y, None
    else:
        n_test = math.ceil(data.test_size * len(X))   # scikit-learn's rounding: both sides must keep a sample
        if not 1 <= n_test < len(X):
            raise SpecError("data.test_size", f"a fraction that leaves samples in both the training and the test "
                                              f"split ({len(X)} samples)", got=data.test_size)
        split = require("sklearn.model_selection", "scikit-learn", "data").train_test_split
        X_train, X_test, y_train, y_test = split(X, y, test_size=data.test_size, random_state=data.random_state)
    if data.divide_by is not None:
        with np.errstate(all="ignore"):
            X_train = X_train / data.divide_by
            X_test = None if X_test is None else X_test / data.divide_by
        if not np.isfinite(X_train).all():
            raise SpecError("data.divide_by", "a divisor that keeps the features finite in float64",
                            got=data.divide_by)
    if data.scale == "standard":
        scaler = require("sklearn.preprocessing", "scikit-learn", "data").StandardScaler()
        scaler.fit(X_train)
        X_train = scaler.transform(X_train)
        X_test = None if X_test is None else scaler.transform(X_test)
    with np.errstate(over="ignore"):
        if not np.isfinite(X_train.astype(dtype)).all():
            raise SpecError("data", f"features that {np.dtype(dtype).name} can hold (scale them first: "
                                    "data.scale or data.divide_by)")
    return Prepared(X_train.astype(dtype), _targets(y_train, info, dtype),
                    None if X_test is None else X_test.astype(dtype),
                    None if y_test is None else _targets(y_test, info, dtype), info.task)


def _targets(y: np.ndarray, info: Dataset, dtype) -> np.ndarray:
    """Targets as a column (regression, binary) or one-hot rows (multiclass), as the notes shape them."""
    if info.task == "multiclass":
        return np.eye(info.n_classes, dtype=dtype)[y.astype(int)]
    return y.astype(dtype).reshape(-1, 1)

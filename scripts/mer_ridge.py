"""A ridge regression on the linear baseline's features (each band's mean and std over time) of a prepared
MER dataset: the strongest linear reference for the `linear` row, with its penalty chosen by 5-fold
cross-validation on the training and validation clips, scored on the test clips as the CNNs are.
Usage: .venv/bin/python scripts/mer_ridge.py results/mer/data/synthetic_mer.pt
"""

from __future__ import annotations

import sys

import numpy as np
import torch
from sklearn.linear_model import RidgeCV

from irbench.data.tensors import Split, load_split
from irbench.errors import IrbenchError
from irbench.metrics.regression import mean_pearson
from irbench.models.linear import SpectrogramStatsLinear


def _features(split: Split, path: str) -> tuple[np.ndarray, np.ndarray]:
    """The linear baseline's features and the emotion targets (the first `n_emotions` columns)."""
    if "n_emotions" not in split.meta:
        raise IrbenchError(f"{path}: not a MER dataset (expected emotion targets, n_emotions in its meta)")
    with torch.no_grad():
        x = SpectrogramStatsLinear(n_bands=split.x.shape[-1]).features(split.x)
    return x.numpy(), split.y[:, : split.meta["n_emotions"]].numpy()


def ridge_test_corr(path: str) -> tuple[float, float]:
    """(mean Pearson correlation over the emotions on the test clips, the chosen penalty)."""
    fit = [_features(load_split(path, name), path) for name in ("train", "val")]
    x, y = np.concatenate([f[0] for f in fit]), np.concatenate([f[1] for f in fit])
    model = RidgeCV(alphas=np.logspace(-2, 4, 25), cv=5).fit(x, y)
    x_test, y_test = _features(load_split(path, "test"), path)
    return mean_pearson(torch.from_numpy(model.predict(x_test)), torch.from_numpy(y_test)), float(
        model.alpha_
    )


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        corr, alpha = ridge_test_corr(sys.argv[1])
    except IrbenchError as err:
        print(f"mer_ridge: {err}", file=sys.stderr)
        return 1
    print(f"ridge on band mean/std (penalty {alpha:.3g} by 5-fold CV): test corr {corr:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

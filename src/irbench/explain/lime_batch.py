"""LIME image explanations of many images at once, with the `lime` package's own parts.

`lime_image.LimeImageExplainer.explain_instance` perturbs one image and calls the classifier 10 samples
at a time. Here each image is segmented with lime's `SegmentationAlgorithm` (slic suits 32 px images),
its binary samples are drawn from the explainer's random state exactly as lime draws them, the perturbed
images of *all* images are built on the device and classified in large batches, and lime's `LimeBase`
fits each surrogate. With the same random state the explanations equal lime's own (tested).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

ALL_FEATURES = 100000  # lime's default num_features: every superpixel, ranked by weight
DEFAULT_SEGMENTATION = {"algo": "slic", "n_segments": 50, "compactness": 10.0, "sigma": 1.0}


@dataclass
class Explanation:
    """One image's explanation: its superpixels (H, W) and each explained label's weight per superpixel."""

    segments: np.ndarray
    weights: dict[int, np.ndarray]
    probs: np.ndarray  # the model's class probabilities on the unperturbed image

    def pixel_map(self, label: int) -> np.ndarray:
        """(H, W) map of `label`'s superpixel weights."""
        return self.weights[label][self.segments]


def segmenter(spec: Mapping[str, Any] | None = None, seed: int = 0):
    """lime's SegmentationAlgorithm from a config mapping ({'algo': 'slic', ...}); labels start at 0."""
    from lime.wrappers.scikit_image import SegmentationAlgorithm

    spec = dict(spec or DEFAULT_SEGMENTATION)
    algo = spec.pop("algo")
    if algo == "slic":
        spec.setdefault("start_label", 0)
    return SegmentationAlgorithm(algo, random_seed=seed, **spec)


def classifier(model: nn.Module, device: torch.device | str):
    """A lime `classifier_fn`: (N, H, W, 3) float images in [0, 1] to (N, classes) probabilities."""

    def predict(images: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().to(device)
        with torch.no_grad():
            return torch.softmax(model(x), 1).float().cpu().numpy()

    return predict


def _fudged(image: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """lime's hide colour: each superpixel replaced by its mean colour."""
    n = segments.max() + 1
    flat = segments.ravel()
    counts = np.bincount(flat, minlength=n).clip(1)
    means = np.stack([np.bincount(flat, image[..., c].ravel(), minlength=n) / counts for c in range(3)], 1)
    return means[segments].astype(image.dtype)


def explain_batch(
    model: nn.Module,
    images: torch.Tensor,
    labels: Sequence[Sequence[int]] | None = None,
    *,
    num_samples: int = 1000,
    batch_size: int = 1000,
    segmentation: Mapping[str, Any] | None = None,
    seed: int = 0,
    kernel_width: float = 0.25,
) -> list[Explanation]:
    """Explain `images` (N, 3, H, W) in [0, 1]: for each image the labels in `labels[i]` (default: its
    predicted class). Perturbed samples of all images share forward passes of `batch_size`."""
    from lime.lime_image import LimeImageExplainer

    model.eval()
    device = next(model.parameters()).device
    explainer = LimeImageExplainer(kernel_width=kernel_width, random_state=seed)
    seg_fn = segmenter(segmentation, seed)
    hwc = images.detach().permute(0, 2, 3, 1).cpu().double().numpy()
    plans = []
    for image in hwc:  # per image: segments and binary samples, in lime's order of random draws
        segments = seg_fn(image)
        n_features = np.unique(segments).shape[0]
        data = explainer.random_state.randint(0, 2, num_samples * n_features).reshape(
            (num_samples, n_features)
        )
        data[0, :] = 1
        plans.append((image, segments, data))
    probs = _classify_all(model, plans, batch_size, device)
    out = []
    for i, ((_, segments, data), p) in enumerate(zip(plans, probs, strict=True)):
        distances = _cosine_to_first(data)
        wanted = labels[i] if labels is not None else [int(p[0].argmax())]
        weights = {}
        for label in dict.fromkeys(int(v) for v in wanted):
            _, local, _, _ = explainer.base.explain_instance_with_data(
                data, p, distances, label, ALL_FEATURES, feature_selection=explainer.feature_selection
            )
            w = np.zeros(data.shape[1])
            for feature, value in local:
                w[feature] = value
            weights[label] = w
        out.append(Explanation(segments, weights, p[0]))
    return out


def _cosine_to_first(data: np.ndarray) -> np.ndarray:
    """Cosine distance of every sample to the first (the unperturbed image), as sklearn computes it."""
    from sklearn.metrics import pairwise_distances

    return pairwise_distances(data, data[0].reshape(1, -1), metric="cosine").ravel()


def _classify_all(model: nn.Module, plans, batch_size: int, device) -> list[np.ndarray]:
    """Class probabilities of every perturbed sample of every image, in batches that cross images."""
    pieces: list[tuple[int, int, int]] = []  # (image, first sample, last sample)
    for i, (_, _, data) in enumerate(plans):
        for start in range(0, len(data), batch_size):
            pieces.append((i, start, min(start + batch_size, len(data))))
    tensors = [
        (
            torch.from_numpy(image).permute(2, 0, 1).float().to(device),
            torch.from_numpy(_fudged(image, segments)).permute(2, 0, 1).float().to(device),
            torch.from_numpy(segments).long().to(device),
            torch.from_numpy(data).bool().to(device),
        )
        for image, segments, data in plans
    ]
    results: list[list[np.ndarray]] = [[] for _ in plans]
    batch, owners = [], []
    filled = 0

    def flush() -> None:
        nonlocal batch, owners, filled
        if not batch:
            return
        with torch.no_grad():
            p = torch.softmax(model(torch.cat(batch)), 1).float().cpu().numpy()
        offset = 0
        for owner, n in owners:
            results[owner].append(p[offset : offset + n])
            offset += n
        batch, owners, filled = [], [], 0

    for i, start, stop in pieces:
        image, fudged, segments, data = tensors[i]
        while start < stop:
            take = min(stop - start, batch_size - filled)
            keep = data[start : start + take][:, segments][:, None]  # (k, 1, H, W)
            batch.append(torch.where(keep, image, fudged))
            owners.append((i, take))
            filled += take
            start += take
            if filled == batch_size:
                flush()
    flush()
    return [np.concatenate(r) for r in results]

"""LIME-guided refinement (irbench's reading of Nayyem, Rakin, Wang; no public code): explain training
images with LIME, flag the superpixels the model relies on that do not carry the class, retrain with the
flagged regions masked, penalised (right for the right reasons) and/or under adversarial examples, and
repeat for a configured number of rounds, each starting from the previous round's model.

The flag rule (all switches in `<variant>.refine.flag`): the superpixels the model relies on are the
`top_k` with the largest positive LIME weight for its predicted class. One of them is flagged when
- `wrong_class`: the prediction is wrong (the superpixel supports a class the image is not), or
- `recurring`: its look recurs across the images predicted as the same class (its median colour lies within
  `recurring_tol` of the relied superpixels' of at least `recurring_share` of those other images): an
  object varies in colour and place from image to image, a shortcut token does not. Uses no location.
- `outside_center`: a location prior: more than `outside_fraction` of its pixels lie outside the central
  box whose side is `center_fraction` of the image (CIFAR objects are centred; a shortcut in a corner or
  the background is not). It knows where a corner cue is, so it is off by default.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from irbench.data.tensors import load_split, to_unit
from irbench.explain.lime_batch import Explanation, explain_batch
from irbench.io import load_torch
from irbench.models import build_model
from irbench.seeding import pick_device
from irbench.training import TrainResult, train_variant


def central_box(size: int, fraction: float) -> np.ndarray:
    """(size, size) bool: the centred square of side `fraction * size`."""
    side = max(1, int(round(size * fraction)))
    lo = (size - side) // 2
    box = np.zeros((size, size), dtype=bool)
    box[lo : lo + side, lo : lo + side] = True
    return box


# Each rule alone, scored beside the configured one on the same explanations (flag_<rule>_precision, ...).
SINGLE_RULES = {
    "wrong_class": {"wrong_class": True, "recurring": False, "outside_center": False},
    "recurring": {"wrong_class": False, "recurring": True, "outside_center": False},
    "outside_center": {"wrong_class": False, "recurring": False, "outside_center": True},
}


def relied_superpixels(explanations: list[Explanation], top_k: int) -> list[list[int]]:
    """Per image, the (at most `top_k`) superpixels with the largest positive weight for its prediction."""
    out = []
    for exp in explanations:
        weights = exp.weights[int(exp.probs.argmax())]
        out.append([int(s) for s in np.argsort(-weights)[:top_k] if weights[s] > 0])
    return out


def recurring_superpixels(
    explanations: list[Explanation],
    images: np.ndarray,
    relied: list[list[int]],
    tol: float,
    share: float,
) -> list[set[int]]:
    """Per image, the relied superpixels whose median colour (images (N, C, H, W) in [0, 1]) is within
    `tol` (L-inf) of a relied superpixel of at least `share` of the other images predicted as its class."""
    owners, colours, preds = [], [], []
    for i, (exp, segs) in enumerate(zip(explanations, relied, strict=True)):
        for s in segs:
            owners.append((i, s))
            colours.append(np.median(images[i][:, exp.segments == s], axis=1))
            preds.append(int(exp.probs.argmax()))
    out: list[set[int]] = [set() for _ in explanations]
    if not owners:
        return out
    colours_arr, preds_arr = np.stack(colours), np.asarray(preds)
    image_of = np.asarray([i for i, _ in owners])
    for c in np.unique(preds_arr):
        idx = np.flatnonzero(preds_arr == c)
        others = np.unique(image_of[idx]).size - 1
        if others < 1:
            continue
        close = np.abs(colours_arr[idx, None] - colours_arr[None, idx]).max(-1) <= tol
        for a, k in enumerate(idx):
            hits = np.unique(image_of[idx][close[a]])
            if (hits != image_of[k]).sum() >= share * others:
                i, s = owners[k]
                out[i].add(s)
    return out


def flag_regions(
    explanations: list[Explanation], labels: np.ndarray, rule: Mapping[str, Any], images: np.ndarray
) -> np.ndarray:
    """(N, H, W) bool: the pixels of the flagged superpixels of each explained image (module docstring);
    `images` (N, C, H, W) in [0, 1] are the explained images."""
    h, w = explanations[0].segments.shape
    centre = central_box(h, rule.get("center_fraction", 0.5))
    relied = relied_superpixels(explanations, rule.get("top_k", 3))
    recurring = (
        recurring_superpixels(
            explanations, images, relied, rule.get("recurring_tol", 0.08), rule.get("recurring_share", 0.2)
        )
        if rule.get("recurring", False)
        else [set() for _ in explanations]
    )
    flags = np.zeros((len(explanations), h, w), dtype=bool)
    for i, (exp, segs) in enumerate(zip(explanations, relied, strict=True)):
        wrong = rule.get("wrong_class", True) and int(exp.probs.argmax()) != int(labels[i])
        for s in segs:
            pixels = exp.segments == s
            outside = rule.get("outside_center", False) and (
                (pixels & ~centre).sum() > rule.get("outside_fraction", 0.5) * pixels.sum()
            )
            if wrong or outside or s in recurring[i]:
                flags[i] |= pixels
    return flags


def flag_scores(flags: np.ndarray, cue_mask: np.ndarray, object_mask: np.ndarray) -> dict[str, float]:
    """Flagged pixels against ground truth: precision and recall on the planted cue, and the fraction of
    flagged pixels on the object (which a good rule leaves alone)."""
    flagged = flags.sum()
    hit = (flags & cue_mask).sum()
    return {
        "flag_precision": float(hit / flagged) if flagged else 0.0,
        "flag_recall": float(hit / cue_mask.sum()) if cue_mask.sum() else 0.0,
        "flag_on_object": float((flags & object_mask).sum() / flagged) if flagged else 0.0,
        "flag_fraction": float(flagged / flags.size),
    }


def refine_variant(
    data_path: str | os.PathLike,
    spec: Mapping[str, Any],
    base_model: str | os.PathLike,
    *,
    seed: int,
    checkpoint_path: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Refine the trained `base_model` for `spec['refine']['rounds']` rounds of explain, flag, retrain
    (`spec['train']['epochs']` epochs each). Flagged regions accumulate over rounds."""
    r = spec["refine"]
    train = load_split(data_path, "train")
    n_classes = train.meta["n_classes"]
    state = load_torch(base_model)["state_dict"]
    region = torch.zeros(train.x.shape[0], *train.x.shape[2:], dtype=torch.bool)
    history: list[dict[str, float]] = []
    info: dict[str, Any] = {"lime_s": 0.0, "retrain_s": 0.0, "resumed_s": 0.0, "rounds": []}
    pick = torch.Generator().manual_seed(seed)
    result = None
    for rnd in range(r["rounds"]):
        model = build_model(spec["model"], n_classes=n_classes, in_channels=train.x.shape[1])
        model.load_state_dict(state)
        device = pick_device()
        model.to(device).eval()
        idx = torch.randperm(len(train), generator=pick)[: r["n_explain"]]
        t0 = time.perf_counter()
        exps = explain_batch(
            model,
            to_unit(train.x[idx]).to(device),
            num_samples=r["num_samples"],
            batch_size=r["batch_size"],
            segmentation=r.get("segmentation"),
            seed=seed * 1000 + rnd,
        )
        images = to_unit(train.x[idx]).numpy()
        flags = flag_regions(exps, train.y[idx].numpy(), r["flag"], images)
        lime_s = time.perf_counter() - t0
        region[idx] |= torch.from_numpy(flags)
        row: dict[str, Any] = {"round": rnd + 1, "explained": len(idx), "lime_s": round(lime_s, 2)}
        if "cue_mask" in train.extras and "object_mask" in train.extras:
            truth = train.extras["cue_mask"][idx].numpy(), train.extras["object_mask"][idx].numpy()
            row.update(flag_scores(flags, *truth))
            for name, single in SINGLE_RULES.items():
                alone = flag_regions(exps, train.y[idx].numpy(), {**r["flag"], **single}, images)
                row.update({f"flag_{name}_{k[5:]}": v for k, v in flag_scores(alone, *truth).items()})
        log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        t0 = time.perf_counter()
        ckpt = f"{checkpoint_path}.round{rnd + 1}" if checkpoint_path else None
        round_spec = {**spec, "refine": {**r, "round": rnd + 1}}
        result = train_variant(
            data_path,
            round_spec,
            seed=seed + rnd,
            checkpoint_path=ckpt,
            log=log,
            init_state=state,
            region_mask=region,
        )
        kept = result.info.get("resumed_s", 0.0)  # retraining seconds kept from killed runs
        info["retrain_s"] += time.perf_counter() - t0 + kept
        info["lime_s"] += lime_s
        info["resumed_s"] += kept
        state = result.state_dict
        history += [{**h, "round": rnd + 1} for h in result.history]
        info["rounds"].append(row)
    assert result is not None  # rounds >= 1 (schema)
    # the round checkpoints stay until the last round ends: a job killed in round k redoes the (seeded,
    # identical) explanations of rounds 1..k but no finished retraining
    for rnd in range(r["rounds"]):
        ckpt = f"{checkpoint_path}.round{rnd + 1}" if checkpoint_path else None
        if ckpt and os.path.exists(ckpt):
            os.remove(ckpt)
    # the flags of round 1 judge the rule on the baseline model (later rounds explain refined models)
    info.update({k: v for k, v in info["rounds"][0].items() if k.startswith("flag_")})
    for k in ("lime_s", "retrain_s", "resumed_s"):
        info[k] = round(info[k], 2)
    info.update({k: v for k, v in result.info.items() if k not in info})
    info["seed"] = seed  # (round r retrains with seed + r - 1; the job's seed is this one)
    return TrainResult(state, history, result.best_epoch, result.best_score, info)

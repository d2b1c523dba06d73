"""Feature extractors for FID, KID and the inversion feature distance, by `extractor.kind`:

- `torch_fidelity` (paper scale): torch-fidelity's Inception-v3 (irbench.metrics.fidelity), what the vision
  paper's torchmetrics FID and 192-d inversion features run on; weights from torch-fidelity's file.
- `inception`: `FIDInception`, an exact port of the TensorFlow FID Inception-v3 (torchvision's Inception-v3
  with 1008 classes and TensorFlow's pooling branches), for those who hold pytorch-fid's weights file,
  which torch-fidelity cannot read (another state-dict layout). Same network, same features.
- `random` (quick default): a small, seeded, randomly initialised network, no weights file; its numbers
  compare standard with robust but not with published ones.

Each maps images in [0, 1] to {"mid": mid-level features globally average-pooled to a vector (192-d for
Inception, as the reference's inversion distance), "pool": the final pooled vector (FID's)}. Weights are
read from a local file whose path is a configuration key; nothing is downloaded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models import inception as tv

from irbench.errors import IrbenchError
from irbench.io import file_digest

FID_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
FID_WEIGHTS_URL = f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{FID_WEIGHTS_FILE}"
FIDELITY_WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
FIDELITY_WEIGHTS_URL = (
    f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{FIDELITY_WEIGHTS_FILE}"
)
# kind -> (expected file, where to get it, what it is)
WEIGHTS = {
    "torch_fidelity": (FIDELITY_WEIGHTS_FILE, FIDELITY_WEIGHTS_URL, "torch-fidelity's FID Inception-v3"),
    "inception": (FID_WEIGHTS_FILE, FID_WEIGHTS_URL, "the TensorFlow FID Inception ported to PyTorch"),
}


def _avg_pool_tf(x: Tensor) -> Tensor:
    """TensorFlow's 3x3 average pool: padded zeros do not count in the average."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _max_pool(x: Tensor) -> Tensor:
    return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class _BlockA(tv.InceptionA):
    def _forward(self, x: Tensor) -> list[Tensor]:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return [self.branch1x1(x), b5, b3, self.branch_pool(_avg_pool_tf(x))]


class _BlockC(tv.InceptionC):
    def _forward(self, x: Tensor) -> list[Tensor]:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3):
            d = layer(d)
        d = self.branch7x7dbl_5(self.branch7x7dbl_4(d))
        return [self.branch1x1(x), b7, d, self.branch_pool(_avg_pool_tf(x))]


class _BlockE(tv.InceptionE):
    def __init__(self, in_channels: int, pool: str) -> None:
        super().__init__(in_channels)
        self.pool = _max_pool if pool == "max" else _avg_pool_tf

    def _forward(self, x: Tensor) -> list[Tensor]:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        return [self.branch1x1(x), b3, d, self.branch_pool(self.pool(x))]


class FIDInception(nn.Module):
    """The FID Inception-v3: 299 px input in [-1, 1]; `mid` = the 192 channels after the second max pool,
    globally average-pooled, `pool` = the 2048-d final average pool (the FID features)."""

    def __init__(self) -> None:
        super().__init__()
        net = tv.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
        for name, ch, pool_features in (("Mixed_5b", 192, 32), ("Mixed_5c", 256, 64), ("Mixed_5d", 288, 64)):
            setattr(net, name, _BlockA(ch, pool_features=pool_features))
        for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
            setattr(net, name, _BlockC(768, channels_7x7=c7))
        net.Mixed_7b, net.Mixed_7c = _BlockE(1280, pool="avg"), _BlockE(2048, pool="max")
        self.net = net

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        n = self.net
        x = 2 * F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) - 1
        x = F.max_pool2d(n.Conv2d_2b_3x3(n.Conv2d_2a_3x3(n.Conv2d_1a_3x3(x))), kernel_size=3, stride=2)
        mid = F.max_pool2d(n.Conv2d_4a_3x3(n.Conv2d_3b_1x1(x)), kernel_size=3, stride=2)
        x = mid
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(n, f"Mixed_{name}")(x)
        return {"mid": mid.mean(dim=(2, 3)), "pool": x.mean(dim=(2, 3))}


class RandomFeatures(nn.Module):
    """A seeded random conv net at native resolution: `mid` 32-d (pooled first-layer maps), `pool` 128-d."""

    def __init__(self, seed: int = 0, in_channels: int = 3) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.mid = nn.Sequential(nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU())
        self.top = nn.Sequential(
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(64, 128, 3, stride=2, padding=1)
        )
        with torch.no_grad():
            for p in self.parameters():  # He-normal weights and zero biases from the module's own generator
                if p.dim() > 1:
                    p.copy_(torch.randn(p.shape, generator=gen) * (2.0 / p[0].numel()) ** 0.5)
                else:
                    p.zero_()

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        mid = self.mid(x)
        return {"mid": mid.mean(dim=(2, 3)), "pool": F.relu(self.top(mid)).mean(dim=(2, 3))}


def check_weights(path: str | os.PathLike, kind: str = "inception") -> Path:
    """The extractor's weights file, or a one-line error naming the expected file and where to get it."""
    path = Path(path)
    if not path.is_file():
        name, url, what = WEIGHTS[kind]
        raise IrbenchError(
            f"{path}: FID Inception weights not found (expected {name}, {what}; download it from {url} and "
            "set the path in <study>.evaluate.visualise.extractor.weights)"
        )
    return path


# torch hub's convention: a weights file's name ends in the first hex digits of its sha256
HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.pth?$")


def verify_weights(path: str | os.PathLike, kind: str = "inception") -> Path:
    """Before any job: the weights file exists, is not empty, has the sha256 prefix its name carries (as
    the published files do), or else loads as a state dict; a one-line error naming it otherwise."""
    path = check_weights(path, kind)
    name, url, what = WEIGHTS[kind]
    again = f"expected {name}, {what}: download it again from {url}"
    if path.stat().st_size == 0:
        raise IrbenchError(f"{path}: empty file ({again})")
    named = HASH_IN_NAME.search(path.name)
    if named:
        digest = file_digest(path)
        if not digest.startswith(named.group(1)):
            raise IrbenchError(
                f"{path}: sha256 starts {digest[:8]}, not the {named.group(1)} its name carries "
                f"(a partial or damaged download; {again})"
            )
        return path
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise IrbenchError(f"{path}: not a PyTorch weights file ({first}; {again})") from exc
    if not isinstance(state, Mapping) or not state:
        raise IrbenchError(f"{path}: not a state dict ({again})")
    return path


def load_fid_inception(path: str | os.PathLike) -> FIDInception:
    """The FID Inception with weights read (weights_only) from a local file."""
    path = check_weights(path)
    model = FIDInception()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.net.load_state_dict(state)
    except Exception as exc:
        raise IrbenchError(
            f"{path}: not a state dict of the FID Inception ({FID_WEIGHTS_FILE}): {str(exc).splitlines()[0]}"
        ) from exc
    return model.eval()


def build_extractor(spec: Mapping[str, Any]) -> nn.Module:
    """The extractor a configuration names: {kind: torch_fidelity | inception, weights: path} or
    {kind: random, seed}."""
    if spec["kind"] == "torch_fidelity":
        from irbench.metrics.fidelity import FidelityInception

        path = check_weights(spec["weights"], "torch_fidelity")
        try:
            return FidelityInception(path).eval()
        except Exception as exc:
            raise IrbenchError(
                f"{path}: not torch-fidelity's Inception weights ({FIDELITY_WEIGHTS_FILE}): "
                f"{str(exc).splitlines()[0]}"
            ) from exc
    if spec["kind"] == "inception":
        return load_fid_inception(spec["weights"])
    return RandomFeatures(seed=spec.get("seed", 0)).eval()


@torch.no_grad()
def extract(extractor: nn.Module, x: Tensor, batch_size: int = 100) -> dict[str, Tensor]:
    """Features of images x in [0, 1], computed in batches on the extractor's device, returned on CPU."""
    device = next(extractor.parameters()).device
    parts: dict[str, list[Tensor]] = {}
    for i in range(0, len(x), batch_size):
        for k, v in extractor(x[i : i + batch_size].to(device)).items():
            parts.setdefault(k, []).append(v.float().cpu())
    return {k: torch.cat(v) for k, v in parts.items()}

"""Batched LIME explanations equal the lime package's own, however the perturbed samples are batched."""

import numpy as np
import pytest
import torch
from torch import nn

from irbench.explain.lime_batch import classifier, explain_batch, segmenter


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3))) * 20


@pytest.fixture(scope="module")
def images():
    g = torch.Generator().manual_seed(1)
    return torch.nn.functional.interpolate(torch.rand(3, 3, 8, 8, generator=g), size=32, mode="bilinear")


def _lime_weights(model, image, label, seed, num_samples):
    from lime.lime_image import LimeImageExplainer

    exp = LimeImageExplainer(random_state=seed)
    e = exp.explain_instance(
        image.permute(1, 2, 0).double().numpy(),
        classifier(model, "cpu"),
        labels=(label,),
        top_labels=None,
        num_samples=num_samples,
        segmentation_fn=segmenter(None, seed),
        random_seed=seed,
    )
    w = np.zeros(len(np.unique(e.segments)))
    for f, v in e.local_exp[label]:
        w[f] = v
    return e.segments, w


def test_one_image_matches_lime_explain_instance(images):
    model = TinyNet().eval()
    ours = explain_batch(model, images[:1], [[2]], num_samples=200, batch_size=64, seed=5)[0]
    segments, w = _lime_weights(model, images[0], 2, seed=5, num_samples=200)
    assert (ours.segments == segments).all() and 8 <= segments.max() + 1 <= 60  # slic: useful superpixels
    np.testing.assert_allclose(ours.weights[2], w, rtol=1e-3, atol=1e-3 * np.abs(w).max())


def test_batching_across_images_does_not_change_explanations(images):
    model = TinyNet().eval()
    labels = [[0, 1]] * len(images)
    a = explain_batch(model, images, labels, num_samples=150, batch_size=7, seed=3)
    b = explain_batch(model, images, labels, num_samples=150, batch_size=1000, seed=3)
    for x, y in zip(a, b, strict=True):
        for lab in (0, 1):
            np.testing.assert_allclose(x.weights[lab], y.weights[lab], rtol=1e-5, atol=1e-9)
        assert x.pixel_map(0).shape == (32, 32)


def test_a_superpixel_that_drives_the_class_gets_the_top_weight():
    class Corner(nn.Module):  # class 1 = brightness of the top-left 8x8 corner
        def __init__(self):
            super().__init__()
            self.dummy = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            s = x[:, :, :8, :8].mean((1, 2, 3)) * 30 - 15
            return torch.stack([-s, s], 1) + self.dummy

    img = torch.full((1, 3, 32, 32), 0.2)
    img[:, :, :8, :8] = 1.0
    e = explain_batch(Corner(), img, [[1]], num_samples=300, batch_size=300, seed=0)[0]
    top = int(np.argmax(e.weights[1]))
    assert (e.segments == top)[:8, :8].mean() > 0.5

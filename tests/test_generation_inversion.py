import torch

from irbench.explain.generation import fit_class_gaussians, generate_class_images, sample_seeds
from irbench.explain.inversion import (
    Representation,
    invert,
    relative_distance,
    top_activating,
    visualise_unit,
)
from irbench.models import build_model


def _model():
    torch.manual_seed(0)
    return build_model({"arch": "resnet18", "width": 4}, n_classes=3).eval()


def _data(n=30):
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 3, 16, 16, generator=g), torch.arange(n) % 3


def test_seeds_follow_class_gaussians_and_are_seeded():
    x, y = _data()
    dists = fit_class_gaussians(x, y, n_classes=3)
    classes = torch.tensor([0, 1, 2, 0])
    a = sample_seeds(dists, classes, 16, generator=torch.Generator().manual_seed(3))
    b = sample_seeds(dists, classes, 16, generator=torch.Generator().manual_seed(3))
    assert a.shape == (4, 3, 16, 16) and torch.equal(a, b) and 0 <= a.min() and a.max() <= 1


def test_generation_raises_the_class_logit_within_eps():
    model, (x, y) = _model(), _data()
    classes = torch.tensor([0, 1, 2])
    seeds = sample_seeds(fit_class_gaussians(x, y, 3), classes, 16)
    out = generate_class_images(model, seeds, classes, eps=3.0, step=0.5, steps=10)
    assert ((out - seeds).flatten(1).norm(dim=1) <= 3.0 + 1e-4).all()
    with torch.no_grad():
        before = model(seeds).gather(1, classes[:, None])
        after = model(out).gather(1, classes[:, None])
    assert (after > before).all()


def test_inversion_moves_representation_towards_the_target():
    model, (x, _) = _model(), _data(6)
    start, target = x[:3], x[3:]
    out = invert(model, start, target, eps=10.0, step=0.2, steps=20)
    rep = Representation(model)
    with torch.no_grad():
        assert (relative_distance(rep(out), rep(target)) < relative_distance(rep(start), rep(target))).all()


def test_unit_visualisation_raises_the_unit_and_top_activating_orders():
    model, (x, _) = _model(), _data(10)
    out = visualise_unit(model, x[:2], unit=5, eps=5.0, step=0.5, steps=10)
    with torch.no_grad():
        assert (model.features(out)[:, 5] > model.features(x[:2])[:, 5]).all()
        acts = model.features(x)[:, 5]
    top, bottom = top_activating(model, x, unit=5, k=3)
    assert acts[top].min() >= acts[bottom].max()


def test_visualisation_figure_for_two_models(tiny_dataset, tmp_path):
    from irbench.figures import visualisation_grid
    from irbench.io import save_torch

    arch = {"arch": "resnet18", "width": 4}
    files = {}
    for v in ("a", "b"):
        files[v] = tmp_path / f"{v}.pt"
        save_torch({"state_dict": build_model(arch, n_classes=4).state_dict()}, files[v])
    spec = {
        "n_classes_shown": 4,
        "n_inversions": 2,
        "gen_eps": 30,
        "gen_step": 0.5,
        "gen_steps": 2,
        "inv_eps": 1000,
        "inv_step": 1,
        "inv_steps": 2,
    }
    visualisation_grid(
        tiny_dataset, files, {"a": arch, "b": arch}, spec, tmp_path / "v.png", seed=0, title="t"
    )
    assert (tmp_path / "v.png").read_bytes()[:4] == b"\x89PNG"

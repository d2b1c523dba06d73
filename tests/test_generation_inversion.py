import pytest
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


def test_seeds_are_block_means_repeated_over_their_blocks():
    """As the reference: 4 x 4 pixel blocks on 32 px (an 8 x 8 grid), upsampled by repetition."""
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(40, 3, 32, 32, generator=g), torch.arange(40) % 2
    seeds = sample_seeds(fit_class_gaussians(x, y, 2), torch.tensor([0, 1]), 32, generator=g)
    blocks = seeds.unfold(2, 4, 4).unfold(3, 4, 4)  # (2, 3, 8, 8, 4, 4)
    assert torch.equal(blocks, blocks[..., :1, :1].expand_as(blocks))


def test_fake_relu_moves_a_unit_that_starts_at_zero():
    """Through a plain ReLU a representation unit at zero has no gradient and never moves; the FakeReLU
    passes the gradient, so unit visualisation and inversion can move it (measured before: 3 of 64 units
    unchanged after 20 steps)."""
    model, (x, _) = _model(), _data(40)
    with torch.no_grad():
        acts = model.features(x)
    dead = (acts == 0).nonzero()
    assert len(dead), "expected some zero units on random images"
    i, unit = dead[0].tolist()
    start = x[i : i + 1]
    moved = visualise_unit(model, start, unit=unit, eps=5.0, step=0.5, steps=10)
    with torch.no_grad():
        assert model.features(moved)[0, unit] > 0
    assert torch.equal(model.features(start), model.features(start, fake_relu=True))  # same forward


def test_keep_best_returns_each_examples_best_iterate():
    from irbench.attacks.projected import pgd

    model, (x, y) = _model(), _data(6)

    def loss(logits, t):
        return -torch.nn.functional.cross_entropy(logits, t, reduction="none")  # descend: can overshoot

    best = pgd(model, x, y, loss, eps=50.0, step=20.0, steps=6, norm="l2", random_start=False, keep_best=True)
    last = pgd(model, x, y, loss, eps=50.0, step=20.0, steps=6, norm="l2", random_start=False)
    with torch.no_grad():
        assert (loss(model(best), y) >= loss(model(last), y) - 1e-6).all()
        assert (loss(model(best), y) >= loss(model(x), y) - 1e-6).all()  # never worse than the start


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
        acts2 = model.features(x)[:, 2]
    top, bottom = top_activating(model, x, torch.tensor([5, 2]), k=3, batch_size=4)
    assert top.shape == bottom.shape == (2, 3)
    assert acts[top[0]].min() >= acts[bottom[0]].max()
    assert acts2[top[1]].min() >= acts2[bottom[1]].max()
    assert acts[top[0, 0]] == acts.max() and acts2[bottom[1, 0]] == acts2.min()


SPEC = {
    "n_classes_shown": 3,
    "fid_images_per_class": 4,
    "n_inversions": 3,
    "n_inversions_shown": 2,
    "n_units": 2,
    "n_top": 3,
    "gen_eps": 30,
    "gen_step": 0.5,
    "gen_steps": 2,
    "inv_eps": 1000,
    "inv_step": 1,
    "inv_steps": 2,
}


def test_visual_battery_metrics_images_and_seeding():
    from irbench.explain.visual import visual_battery
    from irbench.metrics.inception import RandomFeatures

    model, (x, y) = _model(), _data(30)
    extractor = RandomFeatures(seed=0)
    tx, ty = _data(60)
    m1, im1 = visual_battery(model, x, y, 3, SPEC, extractor, seed=5, batch_size=5, train_x=tx, train_y=ty)
    m2, im2 = visual_battery(model, x, y, 3, SPEC, extractor, seed=5, batch_size=7, train_x=tx, train_y=ty)
    assert set(m1) == {"fid", "fid_real", "kid", "inv_dist", "inv_dist_noise", "inv_dist_other"}
    assert all(v >= 0 for v in m1.values())
    assert m1["inv_dist"] == pytest.approx((m1["inv_dist_noise"] + m1["inv_dist_other"]) / 2)
    # batch size does not change the result; the seed alone fixes seeds, targets and noise
    assert m1 == pytest.approx(m2, rel=1e-4)
    assert im1["generated"].shape == (3, 3, 16, 16) and im1["inv_noise"].shape == (3, 3, 16, 16)
    assert im1["top"].shape == (2, 3, 3, 16, 16) and im1["unit_images"].shape == (2, 3, 16, 16)
    # every inversion starts from an image of another class than its target
    targets_y = y[[int((x == t).all(dim=(1, 2, 3)).nonzero()[0]) for t in im1["targets"]]]
    starts_y = y[[int((x == s).all(dim=(1, 2, 3)).nonzero()[0]) for s in im1["other_starts"]]]
    assert (targets_y != starts_y).all()


def test_fid_and_its_floor_are_taken_against_the_test_split_at_the_generated_n(monkeypatch):
    """As Boychev's notebook: generated images and the floor's training images (as many per class as
    generated) are each compared with the whole test split."""
    from irbench.explain import visual
    from irbench.metrics.inception import RandomFeatures

    seen = []
    monkeypatch.setattr(visual, "fid", lambda a, b: seen.append((len(a), len(b))) or 1.0)
    model, (x, y) = _model(), _data(30)
    tx, ty = _data(60)
    visual.visual_battery(
        model, x, y, 3, SPEC, RandomFeatures(0), seed=1, batch_size=8, train_x=tx, train_y=ty
    )
    n_gen = 3 * SPEC["fid_images_per_class"]
    assert seen == [(n_gen, len(x)), (n_gen, len(x))]
    picked = visual.per_class_choice(
        ty, torch.arange(3).repeat_interleave(4), torch.Generator().manual_seed(0)
    )
    assert sorted(ty[picked].tolist()) == [0] * 4 + [1] * 4 + [2] * 4 and len(set(picked.tolist())) == 12


def test_last_iterate_and_batch_best_options_are_the_references():
    """inv_keep_best false returns the last PGD iterate (Boychev's rep_inversion, feature_vis); generation
    with keep_best batch returns one iterate for the whole batch."""
    from irbench.attacks.projected import pgd
    from irbench.explain.inversion import invert

    model, (x, _) = _model(), _data(6)
    last = invert(model, x[:3], x[3:], eps=1000, step=1, steps=3, keep_best=False)
    rep = invert.__globals__["Representation"](model, fake_relu=True)
    with torch.no_grad():
        goal = rep(x[3:])
    manual = pgd(
        rep,
        x[:3],
        goal,
        lambda r, g: -invert.__globals__["relative_distance"](r, g),
        eps=1000,
        step=1,
        steps=3,
        norm="l2",
        random_start=False,
    )
    assert torch.equal(last, manual)
    flat = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(x[0].numel(), 3))
    out = pgd(
        flat,
        x,
        torch.zeros(6, dtype=torch.long),
        lambda o, t: o[:, 0],
        eps=5,
        step=0.1,
        steps=4,
        random_start=False,
        keep_best="batch",
    )
    norms = (out - x).flatten(1).norm(dim=1)
    # the logit rises every step; the batch's best scored iterate is the 3rd step's (the 4th is not scored)
    assert torch.allclose(norms, torch.full_like(norms, 0.3), atol=0.01)  # [0, 1] clips a little


def test_visualisation_and_feature_figures_for_two_models(tmp_path):
    from irbench.explain.visual import visual_battery
    from irbench.figures import feature_grid, visualisation_grid
    from irbench.metrics.inception import RandomFeatures

    x, y = _data(30)
    payloads = []
    for i, variant in enumerate(("standard", "robust")):
        torch.manual_seed(i)
        model = build_model({"arch": "resnet18", "width": 4}, n_classes=3).eval()
        _, images = visual_battery(
            model, x, y, 3, SPEC, RandomFeatures(0), seed=0, batch_size=8, train_x=x, train_y=y
        )
        payloads.append({**images, "variant": variant, "seed": 0})
    visualisation_grid(payloads, tmp_path / "v.png", "t", n_inversions=2)
    feature_grid(payloads, tmp_path / "f.png", "t")
    for name in ("v.png", "f.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"

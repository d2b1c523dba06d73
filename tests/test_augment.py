import torch
import torch.nn.functional as F

from irbench.augment import augment, random_crop, random_excerpt, random_flip


def test_crop_is_a_zero_padded_window_per_image_for_any_dtype():
    x = torch.randint(0, 256, (20, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    out = random_crop(x, 2, torch.Generator().manual_seed(1))
    assert out.dtype == torch.uint8 and out.shape == x.shape
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(len(x)):  # each output is one of the 25 windows of its own padded image
        windows = [padded[i, :, dy : dy + 8, dx : dx + 8] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(out[i], w) for w in windows)
    assert torch.equal(random_crop(x.float(), 2, torch.Generator().manual_seed(1)), out.float())


def test_flip_mirrors_about_half_and_augment_is_seeded():
    x = torch.rand(400, 3, 4, 4)
    out = random_flip(x, torch.Generator().manual_seed(0))
    flipped = torch.tensor([torch.equal(o, xi.flip(2)) for o, xi in zip(out, x, strict=True)])
    kept = torch.tensor([torch.equal(o, xi) for o, xi in zip(out, x, strict=True)])
    assert (flipped | kept).all() and 150 < flipped.sum() < 250
    a = augment(x, ["crop", "flip"], torch.Generator().manual_seed(3))
    b = augment(x, ["crop", "flip"], torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_an_excerpt_is_a_window_of_each_clips_own_frames():
    x = torch.arange(6 * 10 * 3, dtype=torch.float32).view(6, 1, 10, 3)
    out = augment(x, ["half_excerpt"], torch.Generator().manual_seed(0))
    assert out.shape == (6, 1, 5, 3)
    starts = []
    for i in range(len(x)):  # consecutive frames of its own clip, every band kept
        start = int(out[i, 0, 0, 0].item() - x[i, 0, 0, 0].item()) // 3
        assert torch.equal(out[i], x[i, :, start : start + 5])
        starts.append(start)
    assert len(set(starts)) > 1  # each clip its own window
    assert torch.equal(random_excerpt(x, 99, torch.Generator()), x)  # no longer than the clip


def test_resized_crop_matches_torchvision_on_a_box_it_chose():
    """RandomResizedCrop, batched: each image is a box of its own, resized back (checked against
    torchvision's resized_crop of the box the sampler picked: scale and ratio fixed so it is known)."""
    from torchvision.transforms.v2 import functional as TF

    from irbench.augment import random_resized_crop

    x = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    full = random_resized_crop(x, torch.Generator().manual_seed(1), scale=(0.25, 0.25), ratio=(1.0, 1.0))
    assert full.dtype == torch.uint8 and full.shape == x.shape
    # a 16 x 16 box somewhere: one of the 17 x 17 placements of torchvision's crop, bilinear, matches
    for i in range(len(x)):
        best = min(
            (full[i].float() - TF.resized_crop(x[i].float(), t, left, 16, 16, [32, 32], antialias=False))
            .abs()
            .mean()
            for t in range(17)
            for left in range(17)
        )
        assert best < 0.5  # the same pixels up to rounding
    # boxes vary in area and place: not all images get the same crop
    varied = random_resized_crop(x[:1].expand(8, -1, -1, -1), torch.Generator().manual_seed(2))
    assert len({tuple(v.flatten()[:50].tolist()) for v in varied}) > 1


def test_rotation_turns_each_image_within_twenty_degrees_and_fills_corners_with_zero():
    from torchvision.transforms.v2 import functional as TF

    from irbench.augment import random_rotation

    x = torch.full((16, 1, 33, 33), 200, dtype=torch.uint8)
    out = random_rotation(x, 20.0, torch.Generator().manual_seed(0))
    zeros = (out == 0).float().mean(dim=(1, 2, 3))
    worst = (TF.rotate(x[0], 20.0) == 0).float().mean()  # the corner area of a 20-degree turn
    assert (zeros <= worst + 0.02).all() and zeros.max() > 0 and (out[:, :, 16, 16] == 200).all()
    assert torch.equal(random_rotation(x, 0.0, torch.Generator()), x)


def test_new_augmentations_are_seeded_and_named_in_errors():
    import pytest

    x = torch.randint(0, 256, (6, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    ops = ["resized_crop", "flip", "rotate20"]
    assert torch.equal(
        augment(x, ops, torch.Generator().manual_seed(4)), augment(x, ops, torch.Generator().manual_seed(4))
    )
    with pytest.raises(ValueError, match="rotate20"):
        augment(x, ["rotate"], torch.Generator())

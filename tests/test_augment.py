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

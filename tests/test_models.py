import torch

from irbench.models import build_model


def test_resnet18_width_knob_output_and_penultimate_features():
    narrow = build_model({"arch": "resnet18", "width": 4}, n_classes=7)
    full = build_model({"arch": "resnet18", "width": 64}, n_classes=10)
    x = torch.rand(2, 3, 32, 32)
    assert narrow(x).shape == (2, 7)
    assert narrow.features(x).shape == (2, 32) and narrow.feature_dim == 32
    assert 11_000_000 < sum(p.numel() for p in full.parameters()) < 11_300_000  # ResNet-18 size


def test_resnet10_is_resnet18_with_one_block_per_stage():
    r10 = build_model({"arch": "resnet10", "width": 8}, n_classes=10)
    r18 = build_model({"arch": "resnet18", "width": 8}, n_classes=10)
    x = torch.rand(2, 3, 32, 32)
    assert r10(x).shape == (2, 10) and r10.feature_dim == r18.feature_dim == 64
    assert [len(stage) for stage in r10.stages] == [1, 1, 1, 1]
    # the last block's FakeReLU (generation, inversion) passes a gradient where the ReLU would not
    assert torch.equal(r10.features(x, fake_relu=True), r10.features(x))
    assert sum(p.numel() for p in r10.parameters()) < sum(p.numel() for p in r18.parameters()) / 2


def test_normalisation_statistics_are_saved_with_the_weights():
    model = build_model({"arch": "resnet18", "width": 4}, n_classes=3)
    model.normalize.set_stats(torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0.5, 0.5, 0.5]))
    clone = build_model({"arch": "resnet18", "width": 4}, n_classes=3)
    clone.load_state_dict(model.state_dict())
    assert torch.equal(clone.normalize.mean.flatten(), torch.tensor([0.1, 0.2, 0.3]))


def test_resnet50_stems_and_features():
    small = build_model({"arch": "resnet50", "stem": "small"}, n_classes=5)
    large = build_model({"arch": "resnet50", "stem": "large"}, n_classes=5)
    assert small(torch.rand(2, 3, 32, 32)).shape == (2, 5)
    assert small.features(torch.rand(2, 3, 32, 32)).shape == (2, 2048)
    assert large.features(torch.rand(1, 3, 128, 128)).shape == (1, 2048)
    assert small.net.conv1.kernel_size == (3, 3) and large.net.conv1.kernel_size == (7, 7)

import pytest
import torch

from irbench.data.tensors import load_split
from irbench.errors import IrbenchError
from irbench.evaluation import attack_correct, predict
from irbench.training import load_trained, train_variant

SPEC = {
    "model": {"arch": "resnet18", "width": 4},
    "train": {
        "epochs": 3,
        "batch_size": 64,
        "optimizer": "sgd",
        "lr": 0.05,
        "momentum": 0.9,
        "weight_decay": 5e-4,
        "schedule": "cosine",
        "augment": ["flip"],
        "val_fraction": 0.1,
        "val_size_max": 100,
    },
    "objective": "standard",
    "attack": None,
}
ADV = {
    **SPEC,
    "objective": "adversarial",
    "attack": {"method": "pgd", "norm": "l2", "eps": 0.5, "step": 0.25, "steps": 2, "random_start": True},
}


def _quiet(_):
    pass


def _interrupted(dataset, spec, *, seed, ckpt, after_epoch: int) -> None:
    """Train until the end of `after_epoch`, as a job killed there would (its checkpoint is the previous
    epoch's: the callback runs before the epoch's checkpoint is written)."""

    class Killed(Exception):
        pass

    def kill(row):
        if row["epoch"] == after_epoch:
            raise Killed

    with pytest.raises(Killed):
        train_variant(dataset, spec, seed=seed, checkpoint_path=ckpt, on_epoch=kill, log=_quiet)


def test_training_learns_the_easy_shape_task(tiny_dataset):
    spec = {**SPEC, "train": {**SPEC["train"], "epochs": 8}}
    result = train_variant(tiny_dataset, spec, seed=0, log=_quiet)
    assert len(result.history) == 8
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.best_score > 0.5  # 4 classes, 60 validation images: chance is 0.25


def test_same_seed_gives_the_same_numbers_and_other_seed_differs(tiny_dataset):
    a = train_variant(tiny_dataset, SPEC, seed=1, log=_quiet)
    b = train_variant(tiny_dataset, SPEC, seed=1, log=_quiet)
    c = train_variant(tiny_dataset, SPEC, seed=2, log=_quiet)
    assert a.history == [{**r, "epoch_s": a.history[i]["epoch_s"]} for i, r in enumerate(b.history)]
    assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)
    assert a.history[0]["train_loss"] != c.history[0]["train_loss"]


def test_killed_job_resumes_from_its_checkpoint_with_identical_results(tiny_dataset, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    full = train_variant(tiny_dataset, ADV, seed=3, log=_quiet)
    short = {**ADV, "train": {**ADV["train"], "epochs": 3}}

    _interrupted(tiny_dataset, short, seed=3, ckpt=ckpt, after_epoch=2)
    assert ckpt.exists()
    from irbench.io import load_torch

    saved = load_torch(ckpt)  # the time the killed run spent on the epochs it kept, at least their epoch_s
    assert saved["elapsed_s"] >= sum(r["epoch_s"] for r in saved["history"]) > 0
    messages = []
    resumed = train_variant(tiny_dataset, short, seed=3, checkpoint_path=ckpt, log=messages.append)
    assert any("resuming" in m for m in messages)
    assert resumed.info["resumed_s"] == round(saved["elapsed_s"], 2) and full.info["resumed_s"] == 0
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in full.history]
    assert resumed.best_epoch == full.best_epoch


def test_checkpoint_of_another_seed_is_not_resumed(tiny_dataset, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    one = {**SPEC, "train": {**SPEC["train"], "epochs": 1}}
    train_variant(tiny_dataset, one, seed=4, checkpoint_path=ckpt, log=_quiet)
    messages = []
    train_variant(tiny_dataset, one, seed=5, checkpoint_path=ckpt, log=messages.append)
    assert any("ignoring" in m for m in messages)


def test_adversarial_checkpoint_is_scored_on_clean_and_adversarial_accuracy(tiny_dataset, tmp_path):
    result = train_variant(tiny_dataset, ADV, seed=0, log=_quiet)
    for row in result.history:
        assert row["score"] == (row["val_acc"] + row["val_adv_acc"]) / 2
    model_path, metrics_path = tmp_path / "m.pt", tmp_path / "m.json"
    result.save(model_path, metrics_path)
    model = load_trained(model_path, ADV["model"], n_classes=4)
    test = load_split(tiny_dataset, "test")
    attacks = {"l2_pgd": {"method": "pgd", "norm": "l2", "eps": 0.5, "step": 0.1, "steps": 3}}
    clean = (predict(model, test.x) == test.y).float().mean().item()
    assert 0 <= attack_correct(model, test.x, test.y, attacks["l2_pgd"]).float().mean().item() <= clean <= 1


def test_non_finite_loss_stops_with_epoch_and_step(tiny_dataset):
    import pytest

    from irbench.errors import IrbenchError

    spec = {**SPEC, "train": {**SPEC["train"], "lr": 1e30, "epochs": 2}}
    with pytest.raises(IrbenchError, match=r"loss is (nan|inf) at epoch \d+, step \d+"):
        train_variant(tiny_dataset, spec, seed=0, log=_quiet)


def test_channel_stats_of_uint8_match_float_stats():
    from irbench.data.tensors import channel_stats, to_unit

    x = torch.randint(0, 256, (50, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    mean, std = channel_stats(x, chunk=7)
    xf = to_unit(x)
    assert torch.allclose(mean, xf.mean((0, 2, 3)), atol=1e-6)
    assert torch.allclose(std, xf.std((0, 2, 3)), atol=1e-6)


def test_history_logs_the_learning_rate_each_epoch_trained_with(tiny_dataset):
    two = {**SPEC, "train": {**SPEC["train"], "epochs": 2}}
    history = train_variant(tiny_dataset, two, seed=0, log=_quiet).history
    # cosine over 2 epochs: epoch 1 at the initial rate, epoch 2 at half of it (not the 0 that comes next)
    assert [round(r["lr"], 6) for r in history] == [0.05, 0.025]


def test_onecycle_warms_up_and_decays_per_batch_and_resumes_identically(tiny_dataset, tmp_path):
    one = {**SPEC, "train": {**SPEC["train"], "epochs": 4, "schedule": "onecycle", "warmup_fraction": 0.25}}
    full = train_variant(tiny_dataset, one, seed=0, log=_quiet)
    lrs = [r["lr"] for r in full.history]
    # the mean rate of each epoch rises over the first quarter of the steps, then falls towards 0
    assert lrs[0] < lrs[1] and lrs[1] > lrs[2] > lrs[3] and max(lrs) < 0.05 and lrs[3] < 0.01
    ckpt = tmp_path / "c.pt"

    _interrupted(tiny_dataset, one, seed=0, ckpt=ckpt, after_epoch=2)
    resumed = train_variant(tiny_dataset, one, seed=0, checkpoint_path=ckpt, log=_quiet)
    assert [r["lr"] for r in resumed.history] == lrs  # the per-batch schedule resumes where it stopped
    for k, v in full.state_dict.items():
        assert torch.equal(v, resumed.state_dict[k]), k


def test_val_fraction_zero_trains_on_every_image_and_keeps_the_last_epoch(tiny_dataset):
    spec = {**SPEC, "train": {**SPEC["train"], "epochs": 2, "val_fraction": 0}}
    result = train_variant(tiny_dataset, spec, seed=0, log=_quiet)
    assert result.info["n_val"] == 0 and result.info["n_train"] == len(
        load_split(tiny_dataset, "train", "cpu")
    )
    assert result.best_epoch == 2 and result.best_score is None
    assert "val_acc" not in result.history[0]
    stop = {**spec, "train": {**spec["train"], "patience": 1}}
    with pytest.raises(IrbenchError, match="train.patience needs a validation split"):
        train_variant(tiny_dataset, stop, seed=0, log=_quiet)


def test_drop_last_leaves_out_the_smaller_last_batch(tiny_dataset, monkeypatch):
    """With drop_last (the MER reference's loaders) an epoch takes only whole batches: n // 64 steps."""
    n = len(load_split(tiny_dataset, "train", "cpu"))
    assert n % 64 != 0  # the test needs a smaller last batch
    steps = []
    real = torch.optim.SGD.step
    monkeypatch.setattr(torch.optim.SGD, "step", lambda self, *a, **k: steps.append(1) or real(self, *a, **k))
    spec = {**SPEC, "train": {**SPEC["train"], "epochs": 1, "batch_size": 64, "val_fraction": 0}}
    train_variant(tiny_dataset, spec, seed=0, log=_quiet)
    assert len(steps) == -(-n // 64)
    steps.clear()
    train_variant(tiny_dataset, {**spec, "train": {**spec["train"], "drop_last": True}}, seed=0, log=_quiet)
    assert len(steps) == n // 64


SYNCS = ("item", "tolist", "__bool__", "__float__", "__int__", "__index__")


def _count_host_syncs(monkeypatch) -> list[str]:
    """Record every Tensor method that copies a value to the host (a synchronisation on CUDA)."""
    calls: list[str] = []
    for name in SYNCS:
        real = getattr(torch.Tensor, name)

        def counted(self, *a, _real=real, _name=name, **k):
            calls.append(_name)
            return _real(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return calls


@pytest.mark.parametrize("objective", ["standard", "adversarial"])
def test_an_epoch_synchronises_with_the_host_a_fixed_number_of_times_not_per_step(
    tiny_dataset, monkeypatch, objective
):
    """Doubling the steps of an epoch adds no host synchronisation: the loop keeps its sums on the device."""
    spec = ADV if objective == "adversarial" else SPEC
    counts = []
    for batch in (64, 32):  # 9 then 17 steps per epoch
        train = {**spec["train"], "epochs": 1, "batch_size": batch, "val_fraction": 0}
        calls = _count_host_syncs(monkeypatch)
        train_variant(tiny_dataset, {**spec, "train": train}, seed=0, log=_quiet)
        counts.append(len(calls))
        monkeypatch.undo()
    assert counts[0] == counts[1] and counts[0] <= 5, counts


def test_checkpoints_hold_the_cuda_generator_state_and_restore_it_where_cuda_is(monkeypatch):
    from irbench.training import rng_state, set_rng_state

    assert rng_state()["cuda_rng"] is None  # this machine: no CUDA
    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: [torch.tensor([7], dtype=torch.uint8)])
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.append)
    state = rng_state()
    assert state["cuda_rng"][0].tolist() == [7]
    set_rng_state(state)
    assert restored == [state["cuda_rng"]]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    set_rng_state(state)  # a GPU run's checkpoint resumed on a CPU: the CUDA state is left alone
    assert len(restored) == 1


def test_a_checkpoint_written_by_training_carries_both_generator_states(tiny_dataset, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    spec = {**SPEC, "train": {**SPEC["train"], "epochs": 2}}
    _interrupted(tiny_dataset, spec, seed=0, ckpt=ckpt, after_epoch=2)  # epoch 1's checkpoint is written
    state = torch.load(ckpt, weights_only=False)
    assert state["epoch"] == 0 and state["torch_rng"].dtype == torch.uint8
    assert "cuda_rng" in state and state["cuda_rng"] is None  # CPU here; on CUDA the per-device states


def test_compiled_training_step_matches_eager(tiny_dataset):
    """`train.compile` (here the aot_eager backend: graph capture and AOT autograd without a C++ build)
    trains the same model as eager execution, and the weights keep their uncompiled names."""
    spec = {**SPEC, "train": {**SPEC["train"], "epochs": 1, "val_fraction": 0}}
    eager = train_variant(tiny_dataset, spec, seed=0, log=_quiet)
    comp = train_variant(
        tiny_dataset, {**spec, "train": {**spec["train"], "compile": "aot_eager"}}, seed=0, log=_quiet
    )
    assert comp.state_dict.keys() == eager.state_dict.keys()
    for k, v in eager.state_dict.items():
        assert torch.allclose(comp.state_dict[k].float(), v.float(), atol=1e-4, rtol=1e-3), k


def test_onecycle_on_a_run_of_four_steps_trains(tiny_dataset):
    """torch's OneCycleLR divides by the warm-up's steps minus one: 0.25 of 4 steps was a division by zero."""
    n = len(load_split(tiny_dataset, "train", "cpu"))
    train = {
        **SPEC["train"],
        "epochs": 2,
        "batch_size": n // 2 + 1,
        "val_fraction": 0,
        "schedule": "onecycle",
    }
    result = train_variant(tiny_dataset, {**SPEC, "train": train}, seed=0, log=_quiet)
    assert len(result.history) == 2 and result.history[0]["lr"] > 0


def test_an_unknown_compile_backend_is_named_before_training(tiny_dataset):
    train = {**SPEC["train"], "epochs": 1, "compile": "no_such_backend"}
    with pytest.raises(IrbenchError, match=r"train.compile: unknown torch.compile backend 'no_such_backend'"):
        train_variant(tiny_dataset, {**SPEC, "train": train}, seed=0, log=_quiet)


def test_the_cosine_period_is_the_reference_trainers_t_max():
    """Boychev's trainers step CosineAnnealingLR(T_max=200) over 100 epochs: the rate ends at half its start;
    without `cosine_period` it decays to 0 over the epochs."""
    from irbench.training import _scheduler

    def last_lr(**t):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        sched = _scheduler(opt, {"schedule": "cosine", "epochs": 100, **t}, 10)
        for _ in range(100):
            opt.step()
            sched.step()
        return opt.param_groups[0]["lr"]

    assert abs(last_lr(cosine_period=200) - 0.05) < 1e-9 and last_lr() < 1e-9


def test_every_random_draw_of_an_epoch_comes_from_the_jobs_generator(tiny_dataset):
    """Shuffles, crops, resized crops, rotations, flips and attack starts all draw from the job's seeded
    generator, made on its device (on CUDA a draw from a CUDA generator without device= raises), so training
    on a GPU copies no random numbers from the host per step and a resume restores the whole stream."""
    from torch.utils._python_dispatch import TorchDispatchMode

    draws: list[tuple[str, bool]] = []

    class Draws(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            name = str(func)
            if any(k in name for k in ("rand", "uniform", "normal", "bernoulli", "multinomial")):
                draws.append((name, kwargs.get("generator") is not None))
            return func(*args, **kwargs)

    train = {**ADV["train"], "epochs": 1, "augment": ["crop", "resized_crop", "flip", "rotate20"]}
    spec = {**ADV, "train": train}

    with Draws():  # the model's initialisation (the global stream) comes before the epoch's shuffle
        train_variant(tiny_dataset, spec, seed=0, log=_quiet)
    names = [n for n, _ in draws]
    shuffle = len(names) - 1 - names[::-1].index("aten.randperm.generator")  # the epoch's (after the init)
    epoch = draws[shuffle:]
    assert len(epoch) > 20 and all(with_gen for _, with_gen in epoch), [n for n, g in epoch if not g]


def test_selection_on_the_test_split_trains_on_every_image(tiny_dataset):
    """`select_on: test` is the reference's selection: all training images train, the test split scores."""
    train = {**SPEC["train"], "epochs": 1, "select_on": "test"}
    result = train_variant(tiny_dataset, {**SPEC, "train": train}, seed=0, log=_quiet)
    test = load_split(tiny_dataset, "test")
    assert result.info["n_train"] == 600 and result.info["n_val"] == len(test)


def test_gradient_values_are_clipped_when_asked(tiny_dataset, monkeypatch):
    seen = []
    real = torch.nn.utils.clip_grad_value_
    monkeypatch.setattr(torch.nn.utils, "clip_grad_value_", lambda p, v: seen.append(v) or real(p, v))
    train = {**SPEC["train"], "epochs": 1, "clip_grad_value": 0.1}
    clipped = train_variant(tiny_dataset, {**SPEC, "train": train}, seed=0, log=_quiet)
    assert seen and set(seen) == {0.1}
    plain = train_variant(
        tiny_dataset, {**SPEC, "train": {**train, "clip_grad_value": None}}, seed=0, log=_quiet
    )
    assert not torch.equal(clipped.state_dict["fc.weight"], plain.state_dict["fc.weight"])


def test_the_training_attack_runs_in_the_batchnorm_mode_asked(monkeypatch):
    """eval (irbench): the attack leaves batch-norm's running statistics alone; train (the reference's):
    the attack's passes update them."""
    from irbench.objectives import attack_in_mode

    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.LazyLinear(2)
    )
    x, y = torch.rand(8, 3, 8, 8), torch.randint(0, 2, (8,))
    model(x)
    model.train()
    attack = {"method": "pgd", "norm": "l2", "eps": 0.5, "step": 0.1, "steps": 3, "random_start": False}
    before = model[1].running_mean.clone()
    attack_in_mode(model, x, y, torch.nn.functional.cross_entropy, attack, batchnorm="eval")
    assert torch.equal(model[1].running_mean, before) and model.training
    attack_in_mode(model, x, y, torch.nn.functional.cross_entropy, attack, batchnorm="train")
    assert not torch.equal(model[1].running_mean, before) and model.training

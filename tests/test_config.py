import copy

import pytest

from irbench.attacks import step_size
from irbench.config import config_hash, deep_merge, load, load_yaml, resolve, study_seeds, train_spec
from irbench.errors import IrbenchError

from .conftest import ROOT

RAW = load_yaml(ROOT / "params.yaml")


def _raw(**changes):
    cfg = copy.deepcopy(RAW)
    cfg.update(changes)
    return cfg


def test_the_shipped_params_resolve_and_quick_shrinks_the_paper_recipe():
    quick = load(ROOT / "params.yaml")
    paper = resolve(_raw(scale="paper"))
    assert quick["scale"] == "quick" and paper["vision"]["train"]["epochs"] == 100
    assert quick["vision"]["train"]["epochs"] < paper["vision"]["train"]["epochs"]
    assert quick["vision"]["train"]["momentum"] == paper["vision"]["train"]["momentum"] == 0.9


def test_misspelt_key_names_the_key_in_one_line():
    cfg = _raw()
    cfg["sedes"] = cfg.pop("seeds")
    with pytest.raises(IrbenchError) as err:
        resolve(cfg)
    msg = str(err.value)
    assert "'sedes'" in msg and "\n" not in msg


def test_nested_misspelt_key_and_wrong_type_name_their_path():
    cfg = _raw()
    cfg["vision"]["train"]["epoch"] = 3
    with pytest.raises(IrbenchError, match=r"vision\.train\.epoch"):
        resolve(cfg)
    cfg = _raw()
    cfg["vision"]["variants"]["l2_robust"]["attack"]["eps"] = "half"
    with pytest.raises(IrbenchError, match=r"vision\.variants\.l2_robust\.attack\.eps.*positive number"):
        resolve(cfg)


def test_bad_value_inside_a_scale_overlay_is_reported_after_merging():
    cfg = _raw()
    cfg["scales"]["quick"]["vision"]["train"]["epochs"] = 0
    with pytest.raises(IrbenchError, match=r"after applying scales\.quick.*vision\.train\.epochs"):
        resolve(cfg)


def test_unknown_scale_and_unknown_dataset_are_named():
    with pytest.raises(IrbenchError, match="'scale' = 'huge'"):
        resolve(_raw(scale="huge"))
    cfg = _raw()
    cfg["vision"]["datasets"] = ["cifar11"]
    with pytest.raises(IrbenchError, match="cifar11"):
        resolve(cfg)


def test_adversarial_variant_needs_an_attack():
    cfg = _raw()
    del cfg["vision"]["variants"]["l2_robust"]["attack"]
    with pytest.raises(IrbenchError, match="l2_robust"):
        resolve(cfg)


def test_train_spec_merges_variant_overrides_and_hash_tracks_changes():
    cfg = resolve(_raw())
    cfg["vision"]["variants"]["standard"]["train"] = {"lr": 0.123}
    spec = train_spec(cfg, "vision", "standard")
    assert spec["train"]["lr"] == 0.123 and spec["train"]["epochs"] == cfg["vision"]["train"]["epochs"]
    assert config_hash(spec) != config_hash(train_spec(cfg, "vision", "l2_robust"))
    assert config_hash(spec) == config_hash(copy.deepcopy(spec))


def test_deep_merge_does_not_mutate_its_inputs():
    base = {"a": {"b": 1, "c": 2}}
    out = deep_merge(base, {"a": {"b": 5}})
    assert out == {"a": {"b": 5, "c": 2}} and base == {"a": {"b": 1, "c": 2}}


def test_unreadable_params_file_is_named(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("scale: [unclosed\n")
    with pytest.raises(IrbenchError, match="params.yaml: not valid YAML"):
        load(bad)


def test_per_dataset_overrides_give_imagenet_its_own_model_and_recipe():
    from irbench.config import eval_spec

    paper = resolve(_raw(scale="paper"))
    cifar = train_spec(paper, "vision", "l2_robust", "cifar10")
    imnet = train_spec(paper, "vision", "l2_robust", "small_imagenet150")
    assert cifar["model"]["arch"] == "resnet18" and cifar["train"]["optimizer"] == "sgd"
    assert imnet["model"] == {"arch": "resnet50", "width": 64, "stem": "large"}
    assert imnet["train"]["optimizer"] == "adam" and imnet["train"]["lr"] == 1e-4
    # the notebook trains the robust model at eps 0.5, step 0.1 (as CIFAR) and evaluates it at 1.5
    assert imnet["train"]["batch_size"] == 200 and imnet["attack"]["eps"] == 0.5
    assert imnet["attack"]["steps"] == 20 and step_size(imnet["attack"]) == pytest.approx(0.1)
    assert imnet["train"]["augment"] == ["resized_crop", "flip", "rotate20"]
    assert eval_spec(paper, "vision", "small_imagenet150")["attacks"]["l2_pgd"]["step_factor"] == 2.5
    assert eval_spec(paper, "vision", "small_imagenet150")["attacks"]["l2_pgd"]["eps"] == 1.5
    assert eval_spec(paper, "vision", "cifar10")["attacks"]["l2_pgd"]["eps"] == 0.5


def test_bad_value_inside_a_per_dataset_override_is_named():
    cfg = _raw()
    cfg["vision"] = copy.deepcopy(cfg["vision"])
    cfg["vision"]["per_dataset"]["small_imagenet150"]["train"]["lr"] = -1
    with pytest.raises(IrbenchError, match=r"per_dataset.small_imagenet150.*'vision.train.lr' = -1"):
        resolve(cfg)


def test_negative_eps_and_empty_seed_list_are_named():
    cfg = _raw(seeds=[])
    with pytest.raises(IrbenchError, match=r"key 'seeds' = \[\] is invalid: expected a non-empty list"):
        resolve(cfg)
    cfg = _raw()
    cfg["vision"] = copy.deepcopy(cfg["vision"])
    cfg["vision"]["variants"]["l2_robust"]["attack"]["eps"] = -0.5
    with pytest.raises(
        IrbenchError, match=r"'vision.variants.l2_robust.attack.eps' = -0.5 .*positive number"
    ):
        resolve(cfg)


def test_a_study_may_have_its_own_seeds_and_paper_scale_gives_mer_ten():
    quick, paper = load(ROOT / "params.yaml"), resolve(_raw(scale="paper"))
    assert study_seeds(quick, "mer") == study_seeds(quick, "vision") == quick["seeds"]
    assert study_seeds(paper, "mer") == list(range(10)) and study_seeds(paper, "vision") == paper["seeds"]
    cfg = _raw()
    cfg["mer"] = {**cfg["mer"], "seeds": [3, -1]}
    with pytest.raises(IrbenchError, match=r"'mer.seeds.1' = -1 .*non-negative integer"):
        resolve(cfg)


def test_the_linear_baseline_trains_to_convergence_at_either_scale_and_quick_mer_drops_no_channels():
    quick, paper = load(ROOT / "params.yaml"), resolve(_raw(scale="paper"))
    for cfg in (quick, paper):
        linear = train_spec(cfg, "mer", "linear", "synthetic_mer")["train"]
        assert (linear["epochs"], linear["patience"], linear["lr"], linear["augment"]) == (199, 30, 0.002, [])
    assert train_spec(quick, "mer", "A2E")["train"]["epochs"] == 12
    # the quick CNNs train on random half excerpts (whole clips at paper scale, as the reference)
    assert train_spec(quick, "mer", "A2E")["train"]["augment"] == ["half_excerpt"]
    assert train_spec(paper, "mer", "A2E")["train"]["augment"] == []
    assert train_spec(quick, "mer", "A2E")["model"]["dropout"] == 0.0
    assert "dropout" not in train_spec(paper, "mer", "A2E")["model"]  # the paper's 0.3
    assert quick["datasets"]["synthetic_mer"]["n_clips"] == 360  # the reference's 288/36/36 split
    bad = _raw()
    bad["mer"] = copy.deepcopy(bad["mer"])
    bad["mer"]["model"]["dropout"] = 1.0
    with pytest.raises(IrbenchError, match=r"dropout.*\[0, 1\)"):
        resolve(bad)


def test_soundtracks_dataset_needs_a_known_midlevel_targets_choice():
    cfg = _raw()
    cfg["datasets"] = copy.deepcopy(cfg["datasets"])
    cfg["datasets"]["soundtracks"]["midlevel_targets"] = "everything"
    with pytest.raises(
        IrbenchError, match=r"datasets.soundtracks.midlevel_targets' = 'everything'.*soundtracks"
    ):
        resolve(cfg)


def test_refined_variant_must_refine_another_variant_and_probes_suit_the_task():
    cfg = _raw()
    cfg["lime"] = copy.deepcopy(cfg["lime"])
    cfg["lime"]["variants"]["refined"]["refine"]["from"] = "basline"
    with pytest.raises(
        IrbenchError, match=r"'lime.variants.refined.refine.from' = 'basline' is not another variant"
    ):
        resolve(cfg)
    cfg = _raw()
    cfg["mer"] = copy.deepcopy(cfg["mer"])
    cfg["mer"]["evaluate"]["cue_following"] = {}
    with pytest.raises(
        IrbenchError, match=r"'mer.evaluate.cue_following': .*classification models, but dataset 'synth"
    ):
        resolve(cfg)
    cfg = _raw()
    cfg["mer"] = copy.deepcopy(cfg["mer"])
    del cfg["mer"]["evaluate"]["clean"]
    with pytest.raises(IrbenchError, match=r"'mer.evaluate': probe 'attacks' reads probe 'clean'"):
        resolve(cfg)
    cfg = _raw()
    cfg["lime"] = copy.deepcopy(cfg["lime"])
    cfg["lime"]["variants"]["refined_mask"]["refine"]["fill"] = "zeros"
    with pytest.raises(
        IrbenchError, match=r"'lime.variants.refined_mask.refine.fill' = 'zeros'.*mean, blur, noise"
    ):
        resolve(cfg)


def test_lime_ablations_switch_one_ingredient_each():
    paper = resolve(_raw(scale="paper"))
    specs = {v: train_spec(paper, "lime", v, "synthetic_cue") for v in paper["lime"]["variants"]}
    parts = {
        v: (s["refine"]["fill"] is not None, s["refine"]["rrr_weight"] > 0, s["attack"] is not None)
        for v, s in specs.items()
        if s["objective"] == "refine"
    }
    assert parts == {
        "refined": (True, True, True),
        "refined_mask": (True, False, False),
        "refined_rrr": (False, True, False),
        "refined_adv": (False, False, True),
    }
    assert specs["baseline"]["train"]["augment"] == ["flip"]  # per_dataset: the corner cue stays in frame
    # the quick scale keeps the refined variant the claims compare, and drops the ablations
    assert set(load(ROOT / "params.yaml")["lime"]["variants"]) == {"baseline", "refined"}


def test_a_study_may_not_share_its_name_with_a_rule():
    from irbench.config import check_study_names

    check_study_names(["vision", "mer"], ["train", "evaluate"])
    with pytest.raises(IrbenchError, match="key 'studies' names 'train', which is also a rule"):
        check_study_names(["vision", "train"], ["train", "evaluate"])


def test_run_setting_states_scale_seeds_and_synthetic_data():
    from irbench.config import run_setting

    cfg = load(ROOT / "params.yaml")
    s = run_setting(cfg)
    assert s["scale"] == "quick" and s["studies"]["vision"]["seeds"] == [0, 1, 2, 3, 4]
    assert s["studies"]["lime"]["datasets"] == {
        "synthetic_cue": {"kind": "synthetic_shapes", "synthetic": True}
    }
    real = copy.deepcopy(cfg)
    real["vision"]["datasets"] = ["cifar10"]
    assert run_setting(real)["studies"]["vision"]["datasets"]["cifar10"] == {
        "kind": "cifar10",
        "synthetic": False,
    }


def test_autoattack_and_gates_entries_are_validated():
    cfg = load_yaml(ROOT / "params.yaml")
    bad = copy.deepcopy(cfg)
    bad["vision"]["evaluate"]["autoattack"]["threats"] = [{"norm": "l1", "eps": 1.0}]
    with pytest.raises(IrbenchError, match="expected linf or l2"):
        resolve(bad)
    custom = copy.deepcopy(cfg)
    custom["vision"]["evaluate"]["autoattack"] = {
        "version": "custom",
        "threats": [{"norm": "l2", "eps": 0.5}],
    }
    with pytest.raises(IrbenchError, match="attacks"):
        resolve(custom)


def test_quick_attack_steps_follow_eps_and_step_or_factor_not_both():
    cfg = load_yaml(ROOT / "params.yaml")
    attack = train_spec(resolve(cfg), "vision", "l2_robust", "synthetic_shapes")["attack"]
    assert step_size(attack) == pytest.approx(2.5 * 0.5 / attack["steps"])
    cfg["scales"]["quick"]["vision"]["variants"]["l2_robust"]["attack"]["eps"] = 1.0
    attack = train_spec(resolve(cfg), "vision", "l2_robust", "synthetic_shapes")["attack"]
    assert step_size(attack) == pytest.approx(2.5 * 1.0 / attack["steps"])  # not a literal at the old eps
    cfg["vision"]["evaluate"]["attacks"]["l2_pgd"]["step_factor"] = 2.0
    cfg["scale"] = "paper"  # (the quick scale sets its own step_factor and no step)
    with pytest.raises(
        IrbenchError, match=r"'vision.evaluate.attacks.l2_pgd' is invalid: expected 'step' or"
    ):
        resolve(cfg)


def test_an_overlay_null_removes_a_key():
    assert deep_merge({"a": {"x": 1, "y": 2}, "b": 3}, {"a": {"x": None}, "b": None}) == {"a": {"y": 2}}
    cfg = load_yaml(ROOT / "params.yaml")
    cfg["scales"]["quick"]["vision"]["evaluate"]["attacks"] = {"linf_pgd": None}
    merged = resolve(cfg)
    assert set(merged["vision"]["evaluate"]["attacks"]) == {"l2_pgd"}  # a scale drops an attack
    cfg["scales"]["quick"]["vision"]["evaluate"]["deletion"] = None
    assert "deletion" not in resolve(cfg)["vision"]["evaluate"]  # ... or a probe


def test_an_linf_eps_above_one_on_images_is_refused_by_key():
    cfg = load_yaml(ROOT / "params.yaml")
    bad = copy.deepcopy(cfg)
    bad["vision"]["evaluate"]["attacks"]["linf_pgd"]["eps"] = 8
    with pytest.raises(
        IrbenchError, match=r"'vision.evaluate.attacks.linf_pgd.eps' = 8 is an L-inf eps above 1"
    ):
        resolve(bad)
    sweep = copy.deepcopy(cfg)
    sweep["lime"]["evaluate"]["sweep"]["eps"] = [0.01, 4]
    with pytest.raises(IrbenchError, match=r"'lime.evaluate.sweep.eps\[1\]' = 4"):
        resolve(sweep)
    trained = copy.deepcopy(cfg)
    trained["lime"]["variants"]["refined"]["attack"]["eps"] = 8.0
    with pytest.raises(IrbenchError, match=r"'lime.variants.refined.attack.eps' = 8.0"):
        resolve(trained)
    mer = copy.deepcopy(cfg)  # spectrograms are standardised, not in [0, 1]: a large eps is allowed there
    mer["mer"]["evaluate"]["attacks"]["bim"]["eps"] = 2.0
    resolve(mer)


def test_the_users_layers_beat_the_scale_and_are_named():
    from irbench.config import run_setting, scale_overrides

    user = {"vision": {"model": {"width": 16}, "train": {"epochs": 5}}}
    quick = resolve(RAW, user=user)
    assert quick["vision"]["model"]["width"] == 16 and quick["vision"]["train"]["epochs"] == 5
    assert quick["vision"]["train"]["optimizer"] == "adam"  # the scale's other keys still apply
    assert scale_overrides(RAW, user) == ["vision.model.width", "vision.train.epochs"]
    paper = resolve(RAW, user={"scale": "paper", "mer": {"seeds": [7, 8]}})
    assert paper["scale"] == "paper" and study_seeds(paper, "mer") == [7, 8]
    assert scale_overrides(RAW, {"scale": "paper", "mer": {"seeds": [7, 8]}}) == ["mer.seeds"]
    assert run_setting(quick, ["vision.train.epochs"])["scale_overridden"] == ["vision.train.epochs"]
    # a user's null still removes a key the scale would set, and a key the scale does not set is no override
    assert (
        "deletion"
        not in resolve(RAW, user={"vision": {"evaluate": {"deletion": None}}})["vision"]["evaluate"]
    )
    assert scale_overrides(RAW, {"vision": {"train": {"momentum": 0.5}}}) == []


def test_the_jobs_read_the_resolved_mlflow_settings(monkeypatch):
    import json

    from irbench.tracking import SETTINGS_ENV, job_settings

    monkeypatch.delenv(SETTINGS_ENV, raising=False)
    assert job_settings({"enabled": True}) == {"enabled": True}
    monkeypatch.setenv(SETTINGS_ENV, json.dumps({"enabled": False, "tracking_uri": "sqlite:///x.db"}))
    assert job_settings({"enabled": True}) == {"enabled": False, "tracking_uri": "sqlite:///x.db"}

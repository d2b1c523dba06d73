"""The paper scale, rehearsed end to end: `scale: paper` (tests/configs/rehearsal.yaml) with only sizes
shrunk, on data the test writes in the published layouts: CIFAR-10's python pickles, ImageNet as it is
distributed (JPEG class folders for training, ILSVRC's flat val/ with its ground-truth CSV, ImageNetV2's
numeric folders), Soundtracks Set 1 as MP3s beside its ratings CSV with the Mid-level dataset's CSVs, and
torch-fidelity's Inception weights file (random weights: the path is tested, not the numbers). The whole
DAG runs from nothing through the report, and every variant and every probe of the paper scale must have
produced its record, columns and figures: a paper-scale code path that is never executed fails here."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from irbench.audio.synthetic import EMOTIONS, MID_LEVEL
from irbench.config import deep_merge, load_yaml, resolve, study_section, study_seeds
from irbench.data.tensors import load_split
from irbench.probes import PROBES, configured, figures_of, metric_owner

from .conftest import ROOT
from .test_workflow import make_project, smk

pytestmark = pytest.mark.e2e
REHEARSAL = ROOT / "tests" / "configs" / "rehearsal.yaml"
SHIPPED = load_yaml(ROOT / "params.yaml")


def _cifar10(root: Path, n_train: int = 40, n_test: int = 20) -> None:
    """CIFAR-10's python layout, small: data_batch_1 and test_batch ({data (N, 3072) uint8, labels}) and
    batches.meta; each class a colour, so a model can learn something in one epoch."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for name, n in (("data_batch_1", n_train), ("test_batch", n_test)):
        labels = np.arange(n) % 10
        data = rng.integers(0, 64, (n, 3, 32, 32), dtype=np.uint8)
        data[np.arange(n), labels % 3] += np.uint8(100 + 15 * labels)[:, None, None]
        with (root / name).open("wb") as f:
            pickle.dump({"data": data.reshape(n, -1), "labels": labels.tolist()}, f)
    with (root / "batches.meta").open("wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)


def _jpeg(path: Path, rng: np.random.Generator) -> None:
    Image.fromarray(rng.integers(0, 256, (24, 30, 3), dtype=np.uint8)).save(path)


def _imagenet(root: Path, v2: Path, per_class: int = 3, per_val: int = 2) -> None:
    """ImageNet as distributed, 1,000 classes of tiny JPEGs: train/<wnid>/, ILSVRC's flat val/ with
    Kaggle's LOC_val_solution.csv (`ImageId,PredictionString`), and ImageNetV2's folders 0..999 (the
    index among the sorted wnids)."""
    rng = np.random.default_rng(1)
    wnids = [f"n{i:08d}" for i in range(1000)]
    (root / "val").mkdir(parents=True)
    rows = ["ImageId,PredictionString"]
    for i, wnid in enumerate(wnids):
        (root / "train" / wnid).mkdir(parents=True)
        (v2 / str(i)).mkdir(parents=True)
        for k in range(per_class):
            _jpeg(root / "train" / wnid / f"{wnid}_{k}.JPEG", rng)
        for k in range(per_val):
            stem = f"ILSVRC2012_val_{i * per_val + k + 1:08d}"
            _jpeg(root / "val" / f"{stem}.JPEG", rng)
            rows.append(f"{stem},{wnid} 10 20 100 120")
            _jpeg(v2 / str(i) / f"{k}.jpeg", rng)
    (root / "LOC_val_solution.csv").write_text("\n".join(rows) + "\n")


def _soundtracks(st: Path, ml: Path, n_clips: int = 20) -> None:
    """Soundtracks Set 1's layout with MP3 clips (3 s of two tones each) and its ratings CSV (UTF-8 with
    BOM), and the Mid-level dataset's metadata.csv (semicolon-separated) and annotations.csv, its
    Soundtracks snippets pointing at the clips by number."""
    import soundfile as sf

    st.mkdir(parents=True)
    (ml / "audio").mkdir(parents=True)
    t = np.arange(3 * 22050) / 22050
    rows = ["\ufeffnumber," + ",".join(EMOTIONS) + ",TARGET"]
    meta, ann = ["song id;Source;ID at file source"], ["song_id," + ",".join(MID_LEVEL)]
    for i in range(1, n_clips + 1):
        tone = 0.2 * np.sin(2 * np.pi * (110 + 20 * i) * t) + 0.1 * np.sin(2 * np.pi * 37 * i * t)
        sf.write(st / f"{i:03d}.mp3", tone, 22050, format="MP3")
        rows.append(f"{i}," + ",".join(f"{1 + (0.3 * i + k) % 8:.2f}" for k in range(8)) + ",x")
        meta.append(f"{i};soundtracks;{i}")
        ann.append(f"{i}," + ",".join(str(1 + (i + k) % 10) for k in range(7)))
    (st / "mean_ratings_set1.csv").write_text("\r\n".join(rows), encoding="utf-8")
    (ml / "metadata.csv").write_text("\n".join(meta))
    (ml / "annotations.csv").write_text("\n".join(ann))


def _fidelity_weights(path: Path) -> None:
    """torch-fidelity's Inception-v3 state dict, random weights, in its own layout."""
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    load = fe.FeatureExtractorInceptionV3.load_state_dict
    fe.FeatureExtractorInceptionV3.load_state_dict = lambda self, state: None
    url = fe.load_state_dict_from_url
    fe.load_state_dict_from_url = lambda *a, **k: None
    try:
        torch.manual_seed(0)
        state = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"]).state_dict()
    finally:
        fe.FeatureExtractorInceptionV3.load_state_dict, fe.load_state_dict_from_url = load, url
    path.parent.mkdir(parents=True)
    torch.save(state, path)


def _config() -> dict:
    """The rehearsal's configuration as the workflow resolves it."""
    return resolve(SHIPPED, "params.yaml", load_yaml(REHEARSAL))


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("rehearsal") / "project")
    shutil.copy2(REHEARSAL, project / "rehearsal.yaml")
    data = project / "data"
    _cifar10(data / "cifar10" / "cifar-10-batches-py")
    _imagenet(data / "imagenet", data / "imagenetv2" / "imagenetv2-top-images-format-val")
    _soundtracks(data / "soundtracks", data / "midlevel")
    _fidelity_weights(project / "weights" / "inception-rehearsal.pth")
    smk(project, "--configfile", "rehearsal.yaml")
    return project


def test_the_rehearsal_is_the_paper_scale_with_only_sizes_shrunk():
    """The same studies, variants, probes, models, objectives and attack methods as `scale: paper`."""
    paper = resolve(deep_merge(SHIPPED, {"scale": "paper"}))
    rehearsal = _config()
    assert rehearsal["scale"] == "paper" and rehearsal["studies"] == paper["studies"]
    for study in paper["studies"]:
        for dataset in rehearsal[study]["datasets"]:
            ours, theirs = study_section(rehearsal, study, dataset), study_section(paper, study, dataset)
            assert ours["variants"].keys() == theirs["variants"].keys(), study
            assert configured(ours["evaluate"]) == configured(theirs["evaluate"]), study
            assert ours["model"] == theirs["model"], (study, dataset)
            for name, variant in ours["variants"].items():
                other = theirs["variants"][name]
                assert variant["objective"] == other["objective"], (study, name)
                assert (variant.get("attack") or {}).get("method") == (other.get("attack") or {}).get(
                    "method"
                )
    assert len(study_seeds(rehearsal, "mer")) > 1 and study_seeds(paper, "mer") == list(range(10))


def test_every_variant_and_probe_of_the_paper_scale_ran(rehearsed):
    cfg = _config()
    for study in cfg["studies"]:
        owned: dict[str, set[str]] = {}  # probe -> its metrics seen in this study's records
        for dataset in cfg[study]["datasets"]:
            evaluate = study_section(cfg, study, dataset)["evaluate"]
            test = load_split(rehearsed / f"results/{study}/data/{dataset}.pt", "test")
            expected = [k for k in configured(evaluate) if not PROBES.get(k).applies_to(test)]
            for variant in cfg[study]["variants"]:
                for seed in study_seeds(cfg, study):
                    path = rehearsed / f"results/{study}/eval/{dataset}/{variant}/seed{seed}.json"
                    record = json.loads(path.read_text())
                    assert sorted(record["probe_s"]) == sorted(expected), path
                    for name in record["metrics"]:
                        probe, _, _ = metric_owner(name)
                        owned.setdefault(probe.key if probe else "", set()).add(name)
            first = study_seeds(cfg, study)[0]
            for kind, (_, fig) in figures_of(evaluate).items():
                name = f"{study}_{dataset}_{kind}" + (f"_seed{first}" if fig.per_seed else "")
                assert (rehearsed / "results" / "figures" / f"{name}.png").is_file(), name
        for key in configured(cfg[study]["evaluate"]):
            probe = PROBES.get(key)
            # scores against ground-truth masks (every pattern has a `{mask}` part) or a planted cue
            # (`needs`) have nothing to score on the real datasets; every other probe writes a column
            masked = all("{mask}" in m.pattern for m in probe.metrics)
            if probe.metrics and not probe.needs and not masked:
                assert owned.get(key), f"{study}: the {key} probe wrote no column"
    table = pd.read_csv(rehearsed / "results/tables/vision.csv")
    assert {(d, v) for d, v in zip(table["dataset"], table["variant"], strict=True)} == {
        (d, v) for d in ("cifar10", "small_imagenet150") for v in ("standard", "l2_robust", "trades")
    }
    assert table["fid_mean"].notna().all() and table["ig_deletion_auc_mean"].notna().all()
    assert (rehearsed / "results" / "report.html").is_file()


def test_the_paper_paths_ran_as_the_paper_runs_them(rehearsed):
    """ResNet-50 with the large stem on 128-px ImageNet images and the extra ImageNetV2 split; AutoAttack's
    standard ensemble; torch-fidelity's extractor; CIFAR-10-C generated; MER's reference attack and
    bottleneck units, with the per-study seed list."""
    saved = torch.load(
        rehearsed / "results/vision/models/small_imagenet150/standard/seed0.pt", weights_only=True
    )
    assert (
        saved["state_dict"]["net.conv1.weight"].shape[-1] == 7
        and "net.layer4.2.conv3.weight" in saved["state_dict"]
    )
    test = load_split(rehearsed / "results/vision/data/small_imagenet150.pt", "test")
    assert test.x.shape[1:] == (3, 128, 128) and len(test) == 3 * 2
    assert len(load_split(rehearsed / "results/vision/data/small_imagenet150.pt", "extra_test")) == 3 * 2
    record = json.loads((rehearsed / "results/vision/eval/cifar10/l2_robust/seed0.json").read_text())
    assert record["autoattack"]["version"] == "standard" and "acc_aa_l2_0.5" in record["metrics"]
    assert record["eval_spec"]["visualise"]["extractor"]["kind"] == "torch_fidelity"
    assert np.isfinite(record["metrics"]["fid"])
    lime = pd.read_csv(rehearsed / "results/tables/lime.csv")
    assert set(lime["variant"]) == {"baseline", "refined", "refined_mask", "refined_rrr", "refined_adv"}
    assert lime["acc_corrupt_mean_mean"].notna().all()  # on CIFAR-10-C, generated from the test split
    assert (rehearsed / "results/lime/data/cifar10.corrupt.pt").is_file()
    mer = pd.read_csv(rehearsed / "results/tables/mer.csv").set_index("variant")
    assert set(mer.index) == {"A2E", "A2B2E", "A2M2E", "aA2E", "aA2B2E", "linear"}
    assert (mer["n_seeds"] == 2).all()  # the per-study seed list
    assert mer.loc[["A2B2E", "A2M2E"], "unit_corr_avg_mean"].notna().all()  # the bottleneck units
    assert mer["corr_ref_mean"].notna().all()  # the reference attack

import pandas as pd
import torch

from irbench.io import read_json, write_json
from irbench.report_page import StudyInputs, build_report, package_versions
from irbench.tables import write_report


def _study(tmp_path):
    evals, trains = [], []
    for variant, (clean, adv) in {"standard": (0.9, 0.05), "l2_robust": (0.8, 0.6)}.items():
        step = 0.01 if variant == "standard" else 0.0  # differences with a spread: 55, 54, 53 points
        for seed in (0, 1, 2):
            ids = {"study": "vision", "dataset": "toy", "variant": variant, "seed": seed}
            e = tmp_path / f"{variant}{seed}.json"
            write_json(
                {**ids, "metrics": {"acc_clean": clean, "acc_l2_pgd": adv + step * seed}, "wall_s": 2.0}, e
            )
            t = tmp_path / f"{variant}{seed}.train.json"
            write_json({**ids, "device": "cpu", "wall_s": 10.0, "history": [{"epoch": 1, "val_acc": 0.5}]}, t)
            evals.append(e)
            trains.append(t)
    csv = tmp_path / "vision.csv"
    write_report(
        "vision",
        evals,
        trains,
        {"toy": "cifar10"},
        csv=csv,
        md=tmp_path / "v.md",
        metrics=tmp_path / "m.json",
        curves_csv=tmp_path / "c.csv",
    )
    png = tmp_path / "figure.png"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.plot([0, 1])
    plt.savefig(png)
    plt.close()
    return StudyInputs(csv, evals, trains, [png])


def test_report_page_has_verdicts_tables_figures_and_provenance(tmp_path):
    inputs = _study(tmp_path)
    out = tmp_path / "results"
    claims = build_report(
        {"vision": inputs},
        html_path=out / "report.html",
        md_path=out / "report.md",
        config_hash="abc123",
        git_commit="deadbeef",
        run_setting={
            "scale": "quick",
            "studies": {
                "vision": {"seeds": [0, 1, 2], "datasets": {"toy": {"kind": "t", "synthetic": True}}}
            },
        },
    )
    verdicts = {c.metric: c.verdict for c in claims}
    assert verdicts == {"acc_l2_pgd": "holds", "acc_clean": "inconclusive"}  # +10 points on every seed
    assert {c.family for c in claims} == {"primary"}
    page = (out / "report.html").read_text()
    assert page.index("Claims") < page.index("vision: mean ± std")  # the verdicts come first
    assert "holds" in page and "abc123" in page and "deadbeef" in page and "data:image/png;base64," in page
    assert "93.20 (cifar10)" in page and "sum of the jobs&#x27; wall times 72 s" in page
    md = (out / "report.md").read_text()
    assert "## Claims" in md and "](../figure.png)" in md and "torch" in md
    # above the claims: scale, seeds, synthetic data, what the words mean; each claim's n and differences
    head = md[: md.index("## Claims")]
    assert "Scale: **quick**" in head and "vision: 3 seeds (0, 1, 2)" in head and "synthetic" in head
    assert "**inconclusive**" in head and "**evaluation failed**" in head and "**low power**" in head
    assert "+54 pp" in md and "+55, +54, +53 pp" in md and "low power (n = 3 < 5)" in md
    assert "no spread" in md  # the equal clean differences decide nothing
    # power per claim, the families, the controls and the study's trust line above the claims
    assert "detectable (80% power)" in md and "(Holm over 2)" in md and "seeds needed" in md
    assert "**primary**" in head and "**negative control**" in head
    assert "vision: controls passed (2 negative inconclusive" in head
    assert "## Controls" in md and "against themselves, first half of seeds vs second (acc_l2_pgd)" in md
    assert not list(out.glob("*.tmp"))


def test_package_versions_name_missing_packages():
    v = package_versions(["torch", "surely-not-a-package"])
    assert v["torch"].startswith("2.") and v["surely-not-a-package"] == "not installed" and "python" in v


def test_job_times_table_lists_every_job(tmp_path):
    from irbench.report_page import job_times

    inputs = _study(tmp_path)
    times = job_times("vision", inputs.records, inputs.train_records)
    assert len(times) == 12 and set(times["stage"]) == {"train", "evaluate"}
    assert isinstance(times, pd.DataFrame) and times["wall_s"].sum() == 72
    assert set(times["machine"]) == {"not recorded"}  # files written before records named their machine


def test_every_record_names_the_machine_and_builds_it_came_from(tmp_path):
    from irbench.machine import describe
    from irbench.records import RunKey, write_record
    from irbench.report_page import job_times

    out = tmp_path / "r.json"
    write_record(RunKey("vision", "d", "v", 0, "h"), {"acc": 1.0}, {}, output=out, device="cpu", started=0.0)
    machine = read_json(out)["machine"]
    assert machine == describe("cpu") and machine["torch"] == torch.__version__
    assert machine["cpu"] and machine["cpu_count"] >= 1 and "gpu" not in machine
    times = job_times("vision", [out], [])
    assert times["machine"].iloc[
        0
    ] == f"{machine['cpu']}, {machine['cpu_count']} cores, torch {torch.__version__}" + (
        f" (CUDA {torch.version.cuda})" if torch.version.cuda else ""
    )


def test_gate_summary_names_the_failed_gates_and_why(tmp_path):
    from irbench.report_page import gate_summary

    ids = {"study": "lime", "dataset": "d", "variant": "v", "seed": 0}
    ok, bad, none = tmp_path / "ok.json", tmp_path / "bad.json", tmp_path / "none.json"
    write_json({**ids, "metrics": {"gate_order": 1.0, "gate_gradients": 1.0}}, ok)
    write_json(
        {
            **ids,
            "seed": 1,
            "metrics": {"gate_order": 0.0, "gate_gradients": 1.0},
            "gates": {"order": {"linf_8": ["attacks:pgd (pgd) 0.300 > sweep:fgsm_8 (fgsm) 0.200"]}},
        },
        bad,
    )
    write_json({**ids, "seed": 2, "metrics": {"acc_clean": 0.5}}, none)
    df = gate_summary("lime", [ok, bad, none])
    assert list(df["passed"]) == ["2/2", "1/2"] and df["failed"].iloc[0] == "none"
    assert df["failed"].iloc[1].startswith("order: {'linf_8': ['attacks:pgd (pgd) 0.300 >")


def test_sanity_flags_name_methods_whose_maps_barely_change(tmp_path):
    from irbench.io import write_json
    from irbench.report_page import sanity_flags

    paths = []
    for variant, mprt in (("standard", 0.9), ("l2_robust", 0.1)):
        for seed in (0, 1):
            p = tmp_path / f"{variant}{seed}.json"
            ident = {"study": "vision", "dataset": "d", "variant": variant, "seed": seed}
            write_json({**ident, "metrics": {"ig_mprt_all": mprt, "ig_random_logit": 0.2}}, p)
            paths.append(p)
    flags = sanity_flags("vision", paths)
    assert flags[["variant", "method"]].values.tolist() == [["standard", "ig"]]
    assert "every layer re-initialised (rank correlation 0.90 > 0.5)" in flags["flag"].iloc[0]


def test_a_failed_control_marks_its_study_not_trustworthy():
    from irbench.claims import evaluate_controls
    from irbench.report_page import trust_lines

    rows = [
        {"dataset": "d", "variant": v, "seed": s, "m": 0.1 * s + (0.5 if v == "a" else 0.0) + 0.001 * (s % 3)}
        for v in ("a", "b")
        for s in range(10)
    ]  # every model scores higher with each later seed: the self-comparison is decided
    claims = [{"claim": "a > b", "metric": "m", "better": "a", "worse": "b", "primary": True}]
    controls = evaluate_controls(pd.DataFrame(rows), "toy", claims, gates_of={})
    (line,) = trust_lines({"toy": controls})
    assert line.startswith("**toy: every verdict is NOT TRUSTWORTHY**") and "negative control" in line


def test_report_compares_a_run_with_the_readme_numbers_within_a_tolerance(tmp_path):
    """The same configuration: how many means agree with the README's run, and which do not; another
    configuration: said, and not compared."""
    import pandas as pd

    from irbench.published import Published

    inputs = _study(tmp_path)
    rows = pd.read_csv(inputs.table_csv).to_dict(orient="records")
    moved = [
        {**r, "acc_clean_mean": r["acc_clean_mean"] + (0.3 if r["variant"] == "standard" else 0.0)}
        for r in rows
    ]
    published = Published("abc123", "31831ad", "a 2-core machine", {"vision": moved})
    out = tmp_path / "results"
    kw = dict(html_path=out / "report.html", md_path=out / "report.md", git_commit="deadbeef")
    build_report({"vision": inputs}, config_hash="h", fingerprint="abc123", published=published, **kw)
    md = (out / "report.md").read_text()
    assert "## Against the README's numbers" in md and "means within tolerance" in md
    outside = md.split("Outside the tolerance")[1].split("##")[0]
    assert "| vision | toy | standard | acc_clean |" in outside and "l2_robust | acc_clean" not in outside
    build_report({"vision": inputs}, config_hash="h", fingerprint="fff000", published=published, **kw)
    md = (out / "report.md").read_text()
    assert "is not the one of the README's default" in md and "Outside the tolerance" not in md


def test_a_gpu_job_is_listed_with_its_gpu_and_driver():
    from irbench.report_page import _machine

    gpu = {"gpu": "NVIDIA H100", "nvidia_driver": "driver 550.54.15", "cpu_count": 16, "torch": "2.14.1",
           "torch_cuda": "13.0", "cpu": "AMD EPYC"}  # fmt: skip
    assert _machine({"machine": gpu}) == "NVIDIA H100 (driver 550.54.15), 16 cores, torch 2.14.1 (CUDA 13.0)"
    assert _machine({}) == "not recorded"

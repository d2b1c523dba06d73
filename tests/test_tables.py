import json

import pandas as pd
import pytest

from irbench.io import write_json
from irbench.tables import markdown, paper_reference, summarise, table_sections, write_report


def _records():
    rows = []
    for variant, accs in {"standard": (0.9, 0.8), "l2_robust": (0.7, 0.5)}.items():
        for seed, acc in enumerate(accs):
            rows.append(
                {
                    "study": "vision",
                    "dataset": "toy",
                    "variant": variant,
                    "seed": seed,
                    "acc_clean": acc,
                    "acc_l2_pgd": acc / 2,
                    "n_eval": 10,
                }
            )
    return pd.DataFrame(rows)


def test_summary_has_mean_std_and_paper_columns():
    ref = {k: v for k, v in paper_reference("vision").items() if k != "source"}
    table = summarise(_records(), ref, {"toy": "cifar10"})
    std = table.set_index("variant").loc["standard"]
    assert std["n_seeds"] == 2
    assert std["acc_clean_mean"] == pytest.approx(0.85)
    assert std["acc_clean_std"] == pytest.approx(pd.Series([0.9, 0.8]).std())
    assert std["paper_acc_clean"] == pytest.approx(0.932)
    md = markdown(table, "vision", "source")
    assert "85.0 ± 7.1" in md and "93.20 (cifar10)" in md


def test_write_report_writes_tables_curves_and_the_headline(tmp_path):
    evals, trains = [], []
    for _, r in _records().iterrows():
        ident = {k: r[k] for k in ("study", "dataset", "variant")} | {"seed": int(r["seed"])}
        e, t = tmp_path / f"e{len(evals)}.json", tmp_path / f"t{len(trains)}.json"
        write_json({**ident, "metrics": {"acc_clean": r["acc_clean"], "acc_l2_pgd": r["acc_l2_pgd"]}}, e)
        write_json(
            {**ident, "history": [{"epoch": 1, "train_loss": 1.0}, {"epoch": 2, "train_loss": 0.5}]}, t
        )
        evals.append(e)
        trains.append(t)
    out = {
        k: tmp_path / "tables" / f"vision{s}"
        for k, s in (
            ("csv", ".csv"),
            ("md", ".md"),
            ("metrics", "_metrics"),
            ("curves_csv", "_curves.csv"),
        )
    }
    write_report("vision", evals, trains, {"toy": "cifar10"}, **out)
    # the headline: a file per dataset/variant with the primary claims' metrics (a row of `dvc metrics show`)
    headline = json.loads((out["metrics"] / "toy.l2_robust.json").read_text())
    assert set(headline) == {"acc_l2_pgd", "acc_clean"} and headline["acc_clean"] == pytest.approx(0.6)
    assert len(pd.read_csv(out["curves_csv"])) == 8
    assert set(pd.read_csv(out["csv"])["variant"]) == {"standard", "l2_robust"}


def test_sections_order_label_and_place_paper_beside_ours():
    """Clean before attacked, headers from the attack settings with units, paper next to its column,
    small raw values with enough decimals, and one section per group of metrics."""
    records = _records().assign(eps_below_0_5=0.001, train_s=12.0)
    records = records.rename(columns={"eps_below_0_5": "eps_below_0.5"})
    ref = {k: v for k, v in paper_reference("vision").items() if k != "source"}
    table = summarise(records, ref, {"toy": "cifar10"})
    spec = {
        "clean": {},
        "attacks": {"l2_pgd": {"method": "pgd", "norm": "l2", "eps": 0.5, "step": 0.1, "steps": 20}},
        "sweep": {"eps": [0.1], "thresholds": [0.5]},
    }
    sections = {title: (head, rows) for title, head, rows in table_sections(table, {"toy": spec})}
    head, rows = sections["Clean and under attack"]
    assert head == ["dataset", "variant", "seeds", "clean (%)", "paper", "L2-PGD eps 0.5 (%)", "paper"]
    assert rows[0][3:5] == ["85.0 ± 7.1", "93.20 (cifar10)"]
    head, rows = sections["Against the attack's strength"]
    assert head[-1] == "eps to corr < 0.5" and rows[0][-1] == "0.0010 ± 0.0000"
    assert sections["Cost"][0][-1] == "training (s)"
    # without the settings the headers fall back to the declared labels
    fallback = {title: head for title, head, _ in table_sections(table)}
    assert "l2_pgd (%)" in fallback["Clean and under attack"]


def test_paper_numbers_with_another_definition_are_not_shown_beside_ours(tmp_path):
    evals = []
    for i, variant in enumerate(("standard", "l2_robust")):
        p = tmp_path / f"e{i}.json"
        ident = {"study": "vision", "dataset": "toy", "variant": variant, "seed": 0}
        write_json({**ident, "metrics": {"inv_dist": 12.0, "fid": 80.0}}, p)
        evals.append(p)
    out = {k: tmp_path / f"t{k}" for k in ("csv", "md", "metrics", "curves_csv")}
    write_json({**ident, "history": [{"epoch": 1, "train_loss": 1.0}]}, tmp_path / "t.json")
    table = write_report("vision", evals, [tmp_path / "t.json"], {"toy": "cifar10"}, **out)
    assert "paper_fid" in table and "paper_inv_dist" not in table
    assert "Not shown beside ours, as the definitions differ: inv_dist" in out["md"].read_text()


def test_metrics_with_a_row_part_are_shown_one_row_per_method():
    """Attribution metrics (`row_by="method"`) give rows IG, SHAP, random; columns without the method."""
    records = _records().assign(ig_object_mass=0.3, shap_object_mass=0.4, random_deletion_auc=0.2)
    table = summarise(records, {}, {"toy": "cifar10"})
    sections = {title: (head, rows) for title, head, rows in table_sections(table)}
    head, rows = sections["Attributions"]
    assert head == [
        "dataset",
        "variant",
        "seeds",
        "method",
        "mass on object (%)",
        "deletion AUC (probability)",
    ]
    assert [r[3] for r in rows] == ["IG", "SHAP", "random", "IG", "SHAP", "random"]
    assert rows[0][4:] == ["30.0 ± 0.0", ""] and rows[2][4:] == ["", "0.20 ± 0.00"]

"""Per-seed records: one identity (RunKey), written atomically, read back one row per run."""

from __future__ import annotations

import time

import pytest

from irbench.io import read_json
from irbench.records import RunKey, load_records, write_record


def _publish(key: RunKey, metrics: dict, extra: dict, output):
    return write_record(key, metrics, extra, output=output, device="cpu", started=time.perf_counter())


def test_write_record_writes_ids_metrics_extras_and_time_and_load_merges_by_run(tmp_path):
    key = RunKey("vision", "shapes", "standard", 1, "abc")
    assert key.child == "vision/shapes/standard/abc/seed1"
    out = tmp_path / "r.json"
    rec = _publish(key, {"acc_clean": 0.5}, {"sweep": [{"eps": 0.1, "acc": 0.4}]}, out)
    assert read_json(out) == rec and rec["config_hash"] == "abc" and rec["wall_s"] >= 0
    assert rec["sweep"][0]["eps"] == 0.1 and not list(tmp_path.glob("*.tmp"))
    other = tmp_path / "o.json"
    _publish(key, {"fid": 3.0}, {}, other)
    rows = load_records([out, other])
    assert len(rows) == 1 and rows.loc[0, "acc_clean"] == 0.5 and rows.loc[0, "fid"] == 3.0


def test_a_truncated_record_stops_the_run_before_any_job(tmp_path):
    from irbench.errors import IrbenchError
    from irbench.records import check_readable

    good, cut = tmp_path / "seed0.json", tmp_path / "seed1.json"
    good.write_text('{"clean_acc": 0.9}')
    cut.write_text('{"clean_acc": 0.')
    check_readable([good, tmp_path / "not_yet.json"])  # a record not yet written is not an error
    with pytest.raises(IrbenchError, match=r"seed1.json: not valid JSON .*delete .*seed1.json and rerun"):
        check_readable([good, cut])

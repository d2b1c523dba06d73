"""`dvc plots show` renders without internet: its page template (report/dvc_plots.html, named in
.dvc/config) carries Vega, Vega-Lite and vega-embed, and headless Chromium with every host unreachable
draws the training curves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import ROOT

BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# headless, no sandbox (root in CI), and nothing reachable: the page must carry everything it needs
OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=15000",
    "--window-size=900,700",
]


def _curves(path: Path) -> None:
    rows = ["dataset,variant,seed,epoch,train_loss"]
    for variant, start in (("standard", 2.3), ("l2_robust", 2.6)):
        for seed in (0, 1):
            rows += [
                f"synthetic_shapes,{variant},{seed},{e},{start * 0.8**e + 0.05 * seed:.4f}" for e in range(8)
            ]
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(rows) + "\n")


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not installed (scripts/setup-test-packages.sh, as root)"
)
def test_dvc_plots_page_renders_offline_in_headless_chromium(tmp_path):
    project = tmp_path / "p"
    for name in (".dvc/config", "dvc.yaml", "params.yaml", "report/dvc_curves.json", "report/dvc_plots.html"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, project / name)
    _curves(project / "results" / "tables" / "vision_curves.csv")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(
        [str(BIN / "dvc"), "plots", "show", "results/tables/vision_curves.csv", "-o", "plots"],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
    )
    page = project / "plots" / "index.html"
    html = page.read_text()
    assert "cdn.jsdelivr" not in html and 'src="http' not in html and "vegaEmbed(" in html
    dom = subprocess.run(
        [CHROMIUM, *OFFLINE, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'class="vega-embed' in dom and ("<canvas" in dom or "<svg" in dom), dom[-2000:]
    shot = tmp_path / "plots.png"
    subprocess.run(
        [
            CHROMIUM,
            *OFFLINE,
            f"--user-data-dir={tmp_path / 'profile2'}",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    pixels = np.asarray(Image.open(shot).convert("L"))
    coloured = np.asarray(Image.open(shot).convert("HSV"))[..., 1] > 80  # the variants' line colours
    assert (pixels < 128).mean() > 0.002 and coloured.sum() > 200, "the page rendered blank"

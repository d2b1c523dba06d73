#!/usr/bin/env bash
# Rebuild report/dvc_plots.html, the page template of `dvc plots show` (.dvc/config names it): DVC's own
# page loads Vega, Vega-Lite and vega-embed from a CDN and is blank without internet, which is where
# clusters' compute nodes are. This one carries the three libraries inline, from their npm packages at the
# versions DVC's page asks for. Needs npm and its registry; the result is committed, so users need neither.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
packages=(vega@5.20.2 vega-lite@5.2.0 vega-embed@6.18.2)
(cd "$tmp" && npm pack --silent "${packages[@]}" >/dev/null)  # npm checks each tarball's registry integrity
for f in "$tmp"/*.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
python3 - "$tmp" "${packages[@]}" >report/dvc_plots.html.tmp <<'PY'
import sys
from pathlib import Path

tmp, packages = Path(sys.argv[1]), sys.argv[2:]
scripts = []
for spec in packages:
    name, version = spec.rsplit("@", 1)
    js = (tmp / f"{name}-{version}" / "package" / "build" / f"{name}.min.js").read_text()
    assert "</script" not in js and "{plot_divs}" not in js and "{refresh_tag}" not in js, name
    scripts.append(f"<script>/* {name} {version} (BSD-3-Clause), from npm */\n{js}\n</script>")
print(f"""<!DOCTYPE html>
<html>
<head>
{{refresh_tag}}
<meta charset="utf-8">
<title>irbench: DVC plots</title>
<!-- Written by scripts/dvc-plots-template.sh: {", ".join(packages)} inline (BSD-3-Clause, University of
     Washington Interactive Data Lab), so that this page renders without internet. -->
{chr(10).join(scripts)}
<style>table {{ border-spacing: 15px; }} body {{ font-family: sans-serif; }}</style>
</head>
<body>
{{plot_divs}}
</body>
</html>""")
PY
mv report/dvc_plots.html.tmp report/dvc_plots.html
echo "irbench: wrote report/dvc_plots.html ($(wc -c <report/dvc_plots.html) bytes: ${packages[*]})"

"""`python -m irbench.zoo fetch NAME --zoo-dataset cifar10 --threat-model Linf --model-dir data/robustbench`:
on a machine with internet, download a RobustBench zoo model's weights into the zoo's folder layout with
RobustBench's own loader, record their sha256 in <model-dir>/SHA256SUMS and print the variant to add to a
study. Runs never download: the train job imports the local file (irbench.external)."""

from __future__ import annotations

import argparse
from pathlib import Path

from irbench.errors import exit_in_one_line
from irbench.io import file_digest, write_text


def zoo_path(model_dir: str | Path, zoo_dataset: str, threat_model: str, name: str) -> Path:
    """Where RobustBench keeps (and irbench reads) a zoo model's weights."""
    return Path(model_dir) / zoo_dataset / threat_model / f"{name}.pt"


def record_hash(model_dir: str | Path, path: Path) -> str:
    """Add (or update) `path`'s line in <model_dir>/SHA256SUMS (sha256sum's format); returns the hash."""
    digest = file_digest(path)
    sums = Path(model_dir) / "SHA256SUMS"
    rel = path.relative_to(model_dir).as_posix()
    old = sums.read_text().splitlines() if sums.exists() else []
    lines = [ln for ln in old if not ln.endswith(f"  {rel}")]
    write_text("\n".join([*lines, f"{digest}  {rel}"]) + "\n", sums)
    return digest


def variant_yaml(name: str, zoo_dataset: str, threat_model: str, path: Path, digest: str) -> str:
    """The study variant that imports the file."""
    key = name.replace("-", "_")
    return (
        f"{key}:\n"
        f"  model: {{arch: robustbench, name: {name}, threat_model: {threat_model}, "
        f"zoo_dataset: {zoo_dataset}}}\n"
        f"  checkpoint: {{path: {path.as_posix()}, sha256: {digest}, source: RobustBench {zoo_dataset} "
        f"{threat_model} {name}}}\n"
    )


def fetch(name: str, zoo_dataset: str, threat_model: str, model_dir: str) -> str:
    """Download (RobustBench's load_model, which fetches what is not there), hash, and return the variant."""
    from irbench.models.robustbench_zoo import zoo

    zoo()
    from robustbench.utils import load_model

    load_model(name, model_dir, zoo_dataset, threat_model)
    path = zoo_path(model_dir, zoo_dataset, threat_model, name)
    return variant_yaml(name, zoo_dataset, threat_model, path, record_hash(model_dir, path))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m irbench.zoo", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="download a RobustBench model and record its sha256")
    f.add_argument("name", help="the model's name on its RobustBench leaderboard")
    f.add_argument("--zoo-dataset", default="cifar10", choices=["cifar10", "cifar100", "imagenet"])
    f.add_argument("--threat-model", default="Linf", choices=["Linf", "L2", "corruptions"])
    f.add_argument("--model-dir", default="data/robustbench")
    args = parser.parse_args(argv)
    with exit_in_one_line():
        print(fetch(args.name, args.zoo_dataset, args.threat_model, args.model_dir), end="")


if __name__ == "__main__":
    main()

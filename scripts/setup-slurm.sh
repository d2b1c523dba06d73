#!/usr/bin/env bash
# Install what the SLURM test starts as a single-node cluster on this machine (Debian's slurmctld, slurmd,
# slurmdbd, munge and MariaDB), when absent and running as root; otherwise say why that test will skip.
# Never fails the caller: without these, the rest of the suite runs and the SLURM test prints its reason.
set -uo pipefail
need=(munged mariadbd mariadb-install-db slurmdbd slurmctld slurmd sbatch sacct)
missing=()
for b in "${need[@]}"; do command -v "$b" >/dev/null || missing+=("$b"); done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "irbench: the SLURM test will be skipped (missing ${missing[*]}; installing needs root and apt-get)" >&2
  exit 0
fi
echo "irbench: installing a local SLURM cluster's packages for the tests (slurm, munge, MariaDB)" >&2
pkgs=(slurmctld slurmd slurm-client slurmdbd munge mariadb-server)
install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"; }
log="$(mktemp)"
if ! install >"$log" 2>&1; then
  apt-get update -q >>"$log" 2>&1
  install >>"$log" 2>&1 || { tail -n 5 "$log" >&2; echo "irbench: apt-get failed; the SLURM test will be skipped" >&2; }
fi
rm -f "$log"
exit 0

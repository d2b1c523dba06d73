#!/usr/bin/env bash
# Install the Debian packages that some tests use, when absent and running as root; otherwise say which
# tests will skip. Never fails the caller: without them, the rest of the suite runs and those tests print
# their reason.
#   the SLURM test's single-node cluster: slurmctld, slurmd, slurmdbd, munge and MariaDB
#   the offline `dvc plots show` page test: Chromium, headless
set -uo pipefail

# need <what> <binaries...> -- <packages...>
need() {
  local what="$1" bins=() pkgs=() missing=()
  shift
  while [[ $# -gt 0 && "$1" != "--" ]]; do bins+=("$1"); shift; done
  shift
  pkgs=("$@")
  for b in "${bins[@]}"; do command -v "$b" >/dev/null || missing+=("$b"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "irbench: the $what will be skipped (missing ${missing[*]}; installing needs root and apt-get)" >&2
    return 0
  fi
  echo "irbench: installing the packages of the $what (${pkgs[*]})" >&2
  local log
  log="$(mktemp)"
  install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"; }
  if ! install >"$log" 2>&1; then
    apt-get update -q >>"$log" 2>&1
    install >>"$log" 2>&1 || { tail -n 5 "$log" >&2; echo "irbench: apt-get failed; the $what will be skipped" >&2; }
  fi
  rm -f "$log"
}

need "SLURM test" munged mariadbd mariadb-install-db slurmdbd slurmctld slurmd sbatch sacct -- \
  slurmctld slurmd slurm-client slurmdbd munge mariadb-server
need "offline plots page test" chromium -- chromium
exit 0

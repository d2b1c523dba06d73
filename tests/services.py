"""Real services for the tests, started on 127.0.0.1 and stopped by their process ids.

`mlflow_server`: an `mlflow server` with its own SQLite store and artifact folder.
`local_slurm`: a single-node SLURM cluster from Debian's packages (munged, MariaDB, slurmdbd, slurmctld,
slurmd), with two partitions named like `profiles/slurm`'s (`cpu`, `gpu`). The node declares the
resources of a GPU node (`SlurmdParameters=config_overrides`: 16 CPUs, 64 GB, one GPU) so the profile's
paper-scale requests are scheduled as they are; its GPU is a placeholder device (/dev/null).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

SLURM_BINARIES = (
    "sacct",
    "sacctmgr",
    "munge",
    "munged",
    "mariadbd",
    "mariadb-install-db",
    "slurmdbd",
    "slurmctld",
    "slurmd",
    "sbatch",
    "sacct",
)
MUNGE_SOCKET = Path("/run/munge/munge.socket.2")  # where sacct and sacctmgr look, whatever slurm.conf says
CONFIG_LINK = Path("/run/slurm/conf")  # where a configless slurmd links the configuration for commands


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready, what: str, proc: subprocess.Popen | None = None, timeout: float = 90) -> None:
    """Poll `ready()` until true; fail naming `what` if it is not by `timeout` or `proc` exits."""
    deadline = time.time() + timeout
    while not ready():
        if (proc is not None and proc.poll() is not None) or time.time() > deadline:
            raise RuntimeError(f"{what} did not come up")
        time.sleep(0.5)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _listens(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def _daemon(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """Run `cmd` in the foreground in its own session; on exit, SIGTERM it by pid, then SIGKILL."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


@contextmanager
def mlflow_server(folder: Path, workers: int = 2) -> Iterator[str]:
    """A real `mlflow server` on 127.0.0.1 (store and artifacts in `folder`); yields its URI."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    cmd = [
        str(Path(sys.executable).parent / "mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--backend-store-uri",
        f"sqlite:///{folder / 'server.db'}",
        "--artifacts-destination",
        str(folder / "server-artifacts"),
    ]
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    with _daemon(cmd, folder / "server.log", env) as proc:
        wait_until(lambda: _answers(f"{uri}/health"), f"mlflow server on {uri}", proc)
        yield uri


def slurm_unavailable() -> str | None:
    """Why a local SLURM cluster cannot be started here, or None."""
    if os.geteuid() != 0:
        return "not running as root (the daemons and /run/munge need it)"
    missing = [b for b in SLURM_BINARIES if shutil.which(b) is None]
    if missing:
        return f"not installed: {', '.join(missing)} (scripts/setup-test-packages.sh installs them as root)"
    for existing in (Path("/etc/slurm/slurm.conf"), CONFIG_LINK):
        if existing.exists():
            return f"this machine has a SLURM configuration ({existing}); the test leaves it alone"
    return None


def _slurm_conf(root: Path, ports: dict[str, int], node: str) -> str:
    return f"""\
ClusterName=irbench
MailProg=/bin/true
SlurmctldHost={socket.gethostname().split(".")[0]}(127.0.0.1)
SlurmUser=root
SlurmctldPort={ports["ctld"]}
SlurmdPort={ports["d"]}
AuthType=auth/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
SlurmctldParameters=enable_configless
GresTypes=gpu
ReturnToService=2
MpiDefault=none
MinJobAge=3600
KillWait=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={ports["dbd"]}
AccountingStoreFlags=job_comment
NodeName={node} NodeAddr=127.0.0.1 CPUs=16 RealMemory=64000 Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes={node} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={node} MaxTime=INFINITE State=UP
"""


def _slurmdbd_conf(root: Path, ports: dict[str, int]) -> str:
    return f"""\
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort={ports["dbd"]}
SlurmUser=root
PidFile={root}/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={ports["db"]}
StorageUser=root
StorageLoc=slurm_acct
"""


def _munge_answers() -> bool:
    return (
        MUNGE_SOCKET.exists()
        and subprocess.run(["munge", "-n"], capture_output=True, timeout=10).returncode == 0
    )


@contextmanager
def local_slurm(root: Path) -> Iterator[dict[str, str]]:
    """Start the cluster under `root` (a short path: socket names are limited); yield the environment
    that points SLURM's commands at it (`SLURM_CONF`). Everything started is stopped on exit."""
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("state", "spool", "db", "log"):
        (root / sub).mkdir(exist_ok=True)
    ports = {k: free_port() for k in ("ctld", "d", "dbd", "db")}
    node = "irbench-node"
    (root / "slurm.conf").write_text(_slurm_conf(root, ports, node))
    (root / "gres.conf").write_text(f"AutoDetect=off\nNodeName={node} Name=gpu File=/dev/null\n")
    dbd_conf = root / "slurmdbd.conf"
    dbd_conf.write_text(_slurmdbd_conf(root, ports))
    dbd_conf.chmod(0o600)
    env = {**os.environ, "SLURM_CONF": str(root / "slurm.conf")}
    with ExitStack() as stack:
        if not CONFIG_LINK.parent.exists():
            stack.callback(shutil.rmtree, CONFIG_LINK.parent, True)
        if not _munge_answers():  # a munged already serving this machine is used as it is
            created = not MUNGE_SOCKET.parent.exists()
            MUNGE_SOCKET.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            if created:
                stack.callback(shutil.rmtree, MUNGE_SOCKET.parent, True)
            key = root / "munge.key"
            key.write_bytes(secrets.token_bytes(1024))
            key.chmod(0o400)
            cmd = ["munged", "-F", "--force", f"--key-file={key}", f"--seed-file={root / 'munge.seed'}"]
            cmd += [f"--pid-file={root / 'munged.pid'}", f"--log-file={root / 'log' / 'munged.log'}"]
            munged = stack.enter_context(_daemon(cmd, root / "log" / "munged.out"))
            wait_until(_munge_answers, "munged", munged)
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={root / 'db'}", "--user=root"]
            + ["--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True,
            capture_output=True,
        )
        cmd = [
            "mariadbd",
            "--no-defaults",
            f"--datadir={root / 'db'}",
            "--user=root",
            "--bind-address=127.0.0.1",
        ]
        cmd += [
            f"--port={ports['db']}",
            f"--socket={root / 'mysql.sock'}",
            f"--pid-file={root / 'mysqld.pid'}",
        ]
        db = stack.enter_context(_daemon(cmd, root / "log" / "mariadb.log"))
        wait_until(lambda: _listens(ports["db"]), "MariaDB", db)
        dbd = stack.enter_context(_daemon(["slurmdbd", "-D"], root / "log" / "slurmdbd.log", env))
        wait_until(lambda: _listens(ports["dbd"]), "slurmdbd", dbd)
        subprocess.run(
            ["sacctmgr", "-i", "add", "cluster", "irbench"], env=env, check=True, capture_output=True
        )
        ctld = stack.enter_context(_daemon(["slurmctld", "-D", "-i"], root / "log" / "slurmctld.log", env))
        wait_until(lambda: _listens(ports["ctld"]), "slurmctld", ctld)
        # configless: slurmd fetches the configuration from slurmctld and links it at /run/slurm/conf, where
        # commands look when SLURM_CONF is unset (the job-step plugin unsets it before its `srun`)
        cmd = ["slurmd", "-D", "-N", node, "--conf-server", f"127.0.0.1:{ports['ctld']}"]
        slurmd = stack.enter_context(_daemon(cmd, root / "log" / "slurmd.log", env))

        def node_idle() -> bool:
            out = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], env=env, capture_output=True, text=True)
            return out.stdout.split() == ["idle", "idle"]  # the node, once per partition

        wait_until(node_idle, "the SLURM node", slurmd)
        yield env

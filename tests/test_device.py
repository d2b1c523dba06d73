"""The device, checked: a job that was given a GPU it cannot use stops at once with one line, instead of
training on the CPU without a word (irbench.seeding.pick_device)."""

from __future__ import annotations

import pytest
import torch

from irbench.errors import IrbenchError
from irbench.seeding import GPU_VARIABLES, pick_device


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for var in (*GPU_VARIABLES, "IRBENCH_DEVICE"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


@pytest.mark.parametrize("var,value", [("CUDA_VISIBLE_DEVICES", "0"), ("SLURM_JOB_GPUS", "3")])
def test_a_job_given_a_gpu_it_cannot_use_stops_in_one_line(no_cuda, var, value):
    no_cuda.setenv(var, value)
    with pytest.raises(IrbenchError) as err:
        pick_device()
    message = str(err.value)
    assert "\n" not in message and f"{var}={value}" in message
    assert f"torch {torch.__version__}" in message and "driver" in message and "install" in message


def test_no_gpu_given_runs_on_the_cpu_and_an_explicit_cuda_is_checked_too(no_cuda):
    assert pick_device() == torch.device("cpu")
    no_cuda.setenv("CUDA_VISIBLE_DEVICES", "")  # hidden on purpose: the CPU, as asked
    assert pick_device() == torch.device("cpu")
    with pytest.raises(IrbenchError, match="asked for cuda"):
        pick_device("cuda")
    assert pick_device("cpu") == torch.device("cpu")


def test_irbench_device_chooses_for_every_job(no_cuda):
    """IRBENCH_DEVICE=cpu runs on the CPU even where a GPU was given (a test cluster's declared GPU)."""
    no_cuda.setenv("CUDA_VISIBLE_DEVICES", "0")
    no_cuda.setenv("IRBENCH_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    no_cuda.setenv("IRBENCH_DEVICE", "cuda")
    with pytest.raises(IrbenchError, match="asked for cuda"):
        pick_device()

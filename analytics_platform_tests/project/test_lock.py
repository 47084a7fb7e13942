"""Set-up is reproducible: requirements.lock pins every package of the environment, and the
environment the tests run in is exactly the lock (scripts/setup.sh installs it with uv)."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked(lock: str = "requirements.lock") -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\]+)", (ROOT / lock).read_text(), re.M)
    return {_normal(name): version for name, version in pins}


def test_the_lock_pins_every_dependency_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    locked = _locked()
    missing = [r for r in wanted if _normal(Requirement(r).name) not in locked]
    assert not missing, f"not in requirements.lock (run bash scripts/lock.sh): {missing}"
    for requirement in map(Requirement, wanted):  # each pin satisfies pyproject's bounds
        version = locked[_normal(requirement.name)]
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)
    lock = (ROOT / "requirements.lock").read_text()
    assert lock.count("--hash=sha256:") >= len(locked)


def test_the_environment_is_the_lock():
    differ = {}
    for name, version in _locked().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            differ[name] = (version, installed)
    assert not differ, f"installed versions differ from requirements.lock: {differ}"


def test_the_images_runtime_lock_is_the_same_pins_without_the_test_extras():
    runtime, full = _locked("requirements-runtime.lock"), _locked()
    assert runtime and all(full.get(name) == version for name, version in runtime.items())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert all(_normal(Requirement(r).name) in runtime for r in project["dependencies"])
    assert "pytest" not in runtime and "moto" not in runtime


def test_the_gpu_images_lock_adds_the_gpu_extra_to_the_same_pins():
    gpu, full = _locked("requirements-gpu.lock"), _locked()
    assert all(full[name] == version for name, version in gpu.items() if name in full)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in map(Requirement, project["optional-dependencies"]["gpu"]):
        version = gpu.get(_normal(requirement.name))
        assert version and requirement.specifier.contains(version, prereleases=True), requirement
    assert "pytest" not in gpu
    dockerfile = (ROOT / "deploy" / "Dockerfile.gpu").read_text()
    assert "--require-hashes --no-deps -r requirements-gpu.lock" in dockerfile

"""The Dockerfile, read as text (no Docker engine here): dependencies in their own cached layer,
every workspace member present, non-root, a health check on /healthz."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.catalogue import ROOT, SERVICES, console_scripts, workspace_members

# What .dockerignore keeps out of the build context, for the directories the build copies.
IGNORED_IN_CONTEXT = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".venv", ".mypy_cache", ".ruff_cache", "node_modules"
)


@dataclass(frozen=True)
class Instruction:
    stage: int
    keyword: str
    arguments: str


def dockerfile_instructions() -> list[Instruction]:
    text = (ROOT / "Dockerfile").read_text()
    logical = re.sub(r"\\\n", " ", text)  # join continuation lines
    instructions: list[Instruction] = []
    stage = -1
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            stage += 1
        instructions.append(Instruction(stage, keyword.upper(), " ".join(arguments.split())))
    return instructions


def copy_sources(arguments: str) -> list[str]:
    """The sources of a COPY (every word but its flags and its destination)."""
    words = [word for word in arguments.split() if not word.startswith("--")]
    return words[:-1]


def _index(instructions: list[Instruction], predicate: str) -> int:
    matches = [i for i, ins in enumerate(instructions) if predicate in ins.arguments]
    assert matches, f"no instruction containing {predicate!r}"
    return matches[0]


def test_dependencies_install_from_the_lock_before_any_source_is_copied() -> None:
    instructions = dockerfile_instructions()
    dependencies = _index(instructions, "uv sync --frozen --no-dev --no-install-workspace")
    copies = [(i, ins.arguments) for i, ins in enumerate(instructions) if ins.keyword == "COPY"]
    local = [(i, args) for i, args in copies if "--from" not in args]
    manifests = {source for i, args in local if i < dependencies for source in copy_sources(args)}
    relative = [member.relative_to(ROOT).as_posix() for member in workspace_members()]
    expected = {"pyproject.toml", "uv.lock"} | {f"{path}/pyproject.toml" for path in relative}
    assert expected <= manifests, f"not copied before the dependency layer: {expected - manifests}"
    assert manifests <= expected, f"more than manifests in the dependency layer: {manifests}"
    sources = {source for i, args in local if i > dependencies for source in copy_sources(args)}
    top_level = {path.split("/")[0] for path in relative}
    assert top_level <= sources, f"workspace sources never copied: {top_level - sources}"
    install = _index(instructions, "uv sync --frozen --no-dev --no-editable")
    assert install > max(i for i, args in local if set(copy_sources(args)) & top_level)


def test_runtime_stage_runs_as_a_non_root_user_with_a_health_check() -> None:
    instructions = dockerfile_instructions()
    last_stage = instructions[-1].stage
    runtime = [ins for ins in instructions if ins.stage == last_stage]
    users = [ins.arguments for ins in runtime if ins.keyword == "USER"]
    assert users, "the runtime stage has no USER"
    user = users[-1].split(":")[0]
    assert user not in ("0", "root"), users
    assert "--chown=root:root" in next(
        ins.arguments for ins in runtime if ins.keyword == "COPY" and "/app/.venv" in ins.arguments
    ), "the installed code must not be writable by the user the service runs as"
    (healthcheck,) = [ins.arguments for ins in runtime if ins.keyword == "HEALTHCHECK"]
    assert "DXC_HEALTHCHECK_URL" in healthcheck
    env = " ".join(ins.arguments for ins in runtime if ins.keyword == "ENV")
    assert "DXC_HEALTHCHECK_URL=http://127.0.0.1:8000/healthz" in env


def test_the_image_can_run_every_service_the_migration_and_the_sandboxes() -> None:
    scripts = console_scripts()
    wanted = {*SERVICES, "dxc-migrate", "xero-sandbox", "dynamics-sandbox"}
    assert wanted <= scripts, f"no console script for {wanted - scripts}"


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "**/__pycache__", ".dxc", "tests"} <= ignored


def test_the_build_stage_installs_a_working_environment_from_what_it_copies(
    tmp_path: Path,
) -> None:
    """Replays the build stage without Docker: its COPYs into an empty directory and its
    `uv sync` steps there, in order, so the dependency step sees only the manifests. The
    environment must then run without the source tree (non-editable installs)."""
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in $UV
    if uv is None:
        pytest.skip("uv is not on this machine")
    instructions = dockerfile_instructions()
    build_stage = next(ins.stage for ins in instructions if "uv sync" in ins.arguments)
    workdir = tmp_path / "src"
    workdir.mkdir()
    environment = tmp_path / "venv"
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(environment),
        "UV_PYTHON": sys.base_prefix + "/bin/python3.11",
        "UV_COMPILE_BYTECODE": "0",  # the image compiles; correctness doesn't depend on it
        "UV_LINK_MODE": "copy",
    }
    env.pop("VIRTUAL_ENV", None)
    synced = 0
    for ins in instructions:
        if ins.stage != build_stage:
            continue
        if ins.keyword == "COPY" and "--from" not in ins.arguments:
            words = [word for word in ins.arguments.split() if not word.startswith("--")]
            destination = workdir / words[-1]
            for source in words[:-1]:
                origin = ROOT / source
                target = destination / origin.name if words[-1].endswith("/") else destination
                if origin.is_dir():
                    shutil.copytree(origin, target, ignore=IGNORED_IN_CONTEXT, dirs_exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target)
        elif ins.keyword == "RUN" and "uv sync" in ins.arguments:
            command = ins.arguments[ins.arguments.index("uv sync") :].split()
            result = subprocess.run(
                [uv, *command[1:]],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
            )
            assert result.returncode == 0, f"{' '.join(command)}:\n{result.stderr}"
            synced += 1
    assert synced == 2
    shutil.rmtree(workdir)
    scripts = {path.name for path in (environment / "bin").iterdir()}
    assert {*SERVICES, "dxc-migrate", "xero-sandbox", "dynamics-sandbox"} <= scripts
    check = subprocess.run(
        [
            str(environment / "bin" / "python"),
            "-c",
            "import dxc_shared.db.migrate as m, portal_api.main, scheduler.main, "
            "invoice_sync.main, payment_sync.main, token_broker.main; "
            "print(len(list((m.MIGRATIONS_DIR / 'versions').glob('0*.py'))))",
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    assert int(check.stdout) >= 1, "the migrations did not make it into the wheel"

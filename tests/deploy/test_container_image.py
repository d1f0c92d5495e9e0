"""The Dockerfile, read as text (no Docker engine here): dependencies in their own cached layer,
every workspace member present, non-root, a health check on /healthz."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.deploy.catalogue import ROOT, SERVICES, console_scripts, workspace_members


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

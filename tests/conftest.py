"""Program-level test harness: runs the whole ``__main__.py`` under Pulumi mocks.

``run_program(stack, config)`` layers config the way the engine does (``Pulumi.yaml`` defaults, then
``stacks/Pulumi.<stack>.yaml``, then the test's overrides), answers StackReferences with outputs the
test supplies, and returns every declared resource (type, name, inputs, which inputs are secret, and
resource options such as ``protect``) plus the resolved stack outputs with their secretness.
"""

from __future__ import annotations

import json
import logging
import os
import runpy
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT = "pipeline-sandbox"
ORGANIZATION = "organization"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_SIG_KEY = "4dabf18193072939515e22adb298388d"

Computed = Callable[[pulumi_mocks.MockResourceArgs], dict[str, Any]]


@dataclass
class Declared:
    """One resource the program registered, with the options the engine would see."""

    type: str
    name: str
    urn: str
    custom: bool
    inputs: dict[str, Any]
    secret_inputs: set[str]
    """Top-level input names whose value is, or contains, a secret."""
    parent: str
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    ignore_changes: list[str]
    replace_on_changes: list[str]
    additional_secret_outputs: list[str]
    dependencies: list[str]
    """Every URN this resource waits for: explicit ``depends_on`` and property dependencies."""
    property_dependencies: dict[str, list[str]]
    """Top-level input name -> URNs its value came from (what the engine replaces dependents by)."""
    remote: bool
    """A multi-language component (e.g. ``helm.v4.Chart``), which stands for its children in graphs."""
    provider: str
    providers: dict[str, str]
    custom_timeouts: dict[str, str]

    @property
    def parent_name(self) -> str:
        return self.parent.rsplit("::", 1)[-1] if self.parent else ""


@dataclass
class ProgramRun:
    """What one evaluation of the program declared and exported."""

    stack: str
    resources: list[Declared]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    log: list[logging.LogRecord] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Declared:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> Declared:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
        return found[0]

    def warnings(self) -> list[str]:
        return [r.getMessage() for r in self.log if r.levelno == logging.WARNING]


class ProgramMocks(pulumi.runtime.Mocks):
    """Echoes inputs as outputs, adds test-supplied computed outputs, answers StackReferences."""

    def __init__(self, stack_outputs: Mapping[str, Mapping[str, Any]], computed: Mapping[str, Computed]):
        self.stack_outputs = stack_outputs
        self.computed = computed

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            return self._stack_reference(args.resource_id or args.name)
        state = dict(args.inputs)
        if args.typ in self.computed:
            state.update(self.computed[args.typ](args))
        return f"{args.name}-id", state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def _stack_reference(self, stack_name: str) -> tuple[str, dict[str, Any]]:
        if stack_name not in self.stack_outputs:
            raise LookupError(f"test supplied no outputs for referenced stack {stack_name!r}")
        outputs = dict(self.stack_outputs[stack_name])
        secret_names = [k for k, v in outputs.items() if isinstance(v, SecretValue)]
        plain = {k: (v.value if isinstance(v, SecretValue) else v) for k, v in outputs.items()}
        return stack_name, {"name": stack_name, "outputs": plain, "secretOutputNames": secret_names}


@dataclass(frozen=True)
class SecretValue:
    """Marks a StackReference output the test supplies as secret."""

    value: Any


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that also records each registration's resource options."""

    def __init__(self, mocks: ProgramMocks) -> None:
        super().__init__(mocks)
        self.declared: list[Declared] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.declared.append(_declared(request, response.urn))
        return response

    def ReadResource(self, request: Any) -> Any:
        response = super().ReadResource(request)
        self.declared.append(_declared(request, response.urn))
        return response


def _declared(request: Any, urn: str) -> Declared:
    raw = json_format.MessageToDict(request.properties if hasattr(request, "properties") else request.object)
    timeouts = getattr(request, "customTimeouts", None)
    return Declared(
        type=request.type,
        name=request.name,
        urn=urn,
        custom=getattr(request, "custom", True),
        inputs=_unwrap_secrets(raw),
        secret_inputs={k for k, v in raw.items() if _contains_secret(v)},
        parent=request.parent,
        protect=bool(getattr(request, "protect", False)),
        retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
        delete_before_replace=bool(getattr(request, "deleteBeforeReplace", False)),
        ignore_changes=list(getattr(request, "ignoreChanges", [])),
        replace_on_changes=list(getattr(request, "replaceOnChanges", [])),
        additional_secret_outputs=list(getattr(request, "additionalSecretOutputs", [])),
        dependencies=list(getattr(request, "dependencies", [])),
        property_dependencies={
            key: list(deps.urns) for key, deps in getattr(request, "propertyDependencies", {}).items()
        },
        remote=bool(getattr(request, "remote", False)),
        provider=getattr(request, "provider", ""),
        providers=dict(getattr(request, "providers", {})),
        custom_timeouts=(
            {k: getattr(timeouts, k) for k in ("create", "update", "delete") if getattr(timeouts, k)}
            if timeouts is not None
            else {}
        ),
    )


def _contains_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get(_SIG_KEY) == _SECRET_SIG or any(_contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)
    return False


def _unwrap_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return _unwrap_secrets(value.get("value"))
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def layered_config(stack: str, overrides: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Config as the engine hands it over: project defaults < stack file < overrides.

    Returns the flat ``namespace:key`` map (structured values as JSON text, as the engine sends them)
    and the keys that are secret.
    """
    project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
    merged: dict[str, Any] = {}
    for key, declaration in (project.get("config") or {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            merged[key] = declaration["default"]
    stack_file = PROJECT_ROOT / "stacks" / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        merged.update((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {})
    merged.update(overrides)
    flat: dict[str, str] = {}
    secret_keys = []
    for key, value in merged.items():
        if isinstance(value, SecretValue):
            secret_keys.append(key)
        flat[key] = _engine_text(value.value if isinstance(value, SecretValue) else value)
    return flat, secret_keys


def _engine_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


class ProgramFailed(Exception):
    """The program raised; ``resources`` and ``log`` show what it declared and logged before that."""

    def __init__(
        self, error: BaseException, resources: list[Declared], log: list[logging.LogRecord] | None = None
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.resources = resources
        self.log = log or []

    def errors(self) -> list[str]:
        """The messages the program logged as errors (``pulumi.log.error``)."""
        return [r.getMessage() for r in self.log if r.levelno == logging.ERROR]


def run_program(
    stack: str,
    config: Mapping[str, Any] | None = None,
    *,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    computed: Mapping[str, Computed] | None = None,
    preview: bool = False,
) -> ProgramRun:
    """Evaluates ``__main__.py`` for ``stack`` under mocks.

    Raises:
        ProgramFailed: the program raised; carries the error and what was declared before it.
    """
    return run_under_mocks(
        _run_main, stack, config, stack_outputs=stack_outputs, computed=computed, preview=preview
    )


def run_under_mocks(
    program: Callable[[], Any],
    stack: str = "test",
    config: Mapping[str, Any] | None = None,
    *,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    computed: Mapping[str, Computed] | None = None,
    preview: bool = False,
) -> ProgramRun:
    """Runs ``program`` (e.g. a lambda declaring one component) under mocks, like ``run_program``.

    Exports made with ``pulumi.export`` inside ``program`` come back as ``run.outputs``.
    """
    mocks = ProgramMocks(stack_outputs or {}, computed or {})
    monitor = RecordingMonitor(mocks)
    records: list[logging.LogRecord] = []
    logger = logging.getLogger(f"pulumi-program-{stack}")
    logger.handlers = [_ListHandler(records)]
    logger.propagate = False
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks,
        project=PROJECT,
        stack=stack,
        preview=preview,
        monitor=monitor,
        logger=logger,
        organization=ORGANIZATION,
    )
    # As pulumi.runtime.test does: a previous failed run may leave outputs that would fail this one.
    pulumi_settings.SETTINGS.rpc_manager.clear()
    pulumi_settings.SETTINGS.outputs.clear()
    flat, secret_keys = layered_config(stack, config or {})
    pulumi.runtime.set_all_config(flat, secret_keys)
    try:
        _sync_await(run_pulumi_func(lambda: _call(program)))
        outputs, secret_outputs = _resolve_outputs()
    except Exception as error:
        raise ProgramFailed(error, monitor.declared, records) from error
    finally:
        pulumi.runtime.set_all_config({}, [])
        # Back to "no engine": provider tests that follow expect pulumi.log to print to stderr.
        pulumi_settings.reset_options()
    return ProgramRun(stack, monitor.declared, outputs, secret_outputs, records)


def _call(program: Callable[[], Any]) -> None:
    program()


def _run_main() -> None:
    runpy.run_path(str(PROJECT_ROOT / "__main__.py"))


def _resolve_outputs() -> tuple[dict[str, Any], set[str]]:
    root = pulumi_settings.get_root_resource()
    exported: dict[str, Any] = dict(getattr(root, "outputs", {}) or {})
    values: dict[str, Any] = {}
    secret: set[str] = set()
    for name, value in exported.items():
        output = pulumi.Output.from_input(value)
        values[name] = _sync_await(output.future())
        if _sync_await(output.is_secret()):
            secret.add(name)
    return values, secret


class _ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def git_checkout(tmp_path: Path) -> Callable[..., Path]:
    """Makes a real git repository with one commit on ``branch``; returns its path."""

    def make(
        branch: str = "feature/x", email: str | None = "dev@example.com", detached: bool = False
    ) -> Path:
        repo = tmp_path / "checkout"
        repo.mkdir(exist_ok=True)

        def git(*args: str) -> None:
            subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

        git("init", "--quiet", "--initial-branch", branch)
        git("config", "user.name", "Dev")
        if email is not None:
            git("config", "user.email", email)
        else:
            git("config", "user.email", "")
        git("-c", "user.email=ci@example.com", "commit", "--quiet", "--allow-empty", "-m", "init")
        if detached:
            git("checkout", "--quiet", "--detach")
        return repo

    return make


@pytest.fixture(autouse=True)
def _no_ambient_pulumi_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keeps a developer's own PULUMI_CONFIG* variables out of the program under test."""
    for name in [n for n in os.environ if n.startswith("PULUMI_CONFIG")]:
        monkeypatch.delenv(name)
    # A developer's global git identity must not leak into tests of the "no user.email" case.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    yield

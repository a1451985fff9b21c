"""``pipeline-sandbox``: every sandbox of the project at a glance, and its lifecycle.

Exit codes: 0 everything done (or, for a dry run, planned); 1 a sandbox was refused or failed, a
stack could not be read, or the backend failed; 2 bad usage (unknown option or stack, a tier stack
named, a bad value). Progress goes to stderr; results (tables, ``--json``) to stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from pipeline_sandbox_cli.backend import BackendError, StackBackend
from pipeline_sandbox_cli.inventory import DEFAULT_PARALLEL, MAX_PARALLEL
from pipeline_sandbox_cli.usage import EXIT_FAILED, EXIT_USAGE, UsageError

PROJECT_DIR_ENV = "PIPELINE_SANDBOX_PROJECT_DIR"
PROJECT_NAME = "pipeline-sandbox"
EPILOG = (
    "exit codes: 0 done (a dry run: planned); 1 a sandbox refused or failed, a stack unreadable, or "
    "the backend failed; 2 bad usage. Progress goes to stderr, results to stdout."
)


def _parallel(value: str) -> int:
    number = int(value) if value.strip().isdigit() else 0
    if not 1 <= number <= MAX_PARALLEL:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_PARALLEL}, got {value!r}")
    return number


ORPHAN_MIN_AGE = timedelta(hours=1)


def _duration(value: str) -> timedelta:
    # Lazy: the config package imports pydantic, which --help must not pay for.
    from components.config.durations import parse_duration  # noqa: PLC0415

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, with help for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="pipeline-sandbox",
        description="List, inspect, pause and reclaim the project's sandbox stacks (never its tier stacks).",
        epilog=EPILOG,
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        help=f"the project checkout (its Pulumi.yaml); default: ${PROJECT_DIR_ENV}, else the nearest "
        "directory upwards from here that holds the project's Pulumi.yaml",
    )
    parser.add_argument(
        "--tier",
        default="prod",
        help="tier stack whose lakeFS to read for sandboxes that do not name theirs (default: prod)",
    )
    parser.add_argument(
        "--parallel",
        type=_parallel,
        default=DEFAULT_PARALLEL,
        help=f"stacks read at once (default {DEFAULT_PARALLEL}, at most {MAX_PARALLEL})",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_list, _add_status, _add_gc, _add_up, _add_down, _add_pause_resume):
        add(sub)
    return parser


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")


def _branch_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--branch", help=f"git branch {what} (default: the branch checked out here)")


def _add_list(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "list",
        help="every sandbox stack: branch, owner, expiry, state, last update, lakeFS changes",
        description="One row per sandbox stack (tier stacks are never listed). Stacks are read "
        "concurrently; lakeFS facts come from each sandbox's tier.",
        epilog=EPILOG,
    )
    _json_flag(p)


def _add_status(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "status",
        help="one sandbox: outputs, lakeFS diff against its source commit, what to do next",
        description="Outputs, latest update, the lakeFS diff summary against sourceCommit (committed "
        "and uncommitted paths added, changed, removed) and the next steps.",
        epilog=EPILOG,
    )
    p.add_argument("stack", nargs="?", help="sandbox stack (default: the sandbox of the current branch)")
    _branch_flag(p, "whose sandbox to show")
    _json_flag(p)


def _add_gc(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gc",
        help="reclaim expired sandboxes and those whose git branch is gone (dry run unless --yes)",
        description="Finds sandboxes that expired or whose git branch no longer exists on the remote, "
        "and sandbox lakeFS branches no stack owns. Without --yes nothing changes. With --yes each is "
        "destroyed through `pulumi destroy` (delete guard, archive tag, safe delete): uncommitted "
        "changes refuse, and gc never discards them: a stack whose own sandbox:discardUncommitted is "
        "true (or unrecorded) is refused while it has any.",
        epilog=EPILOG,
    )
    p.add_argument("--yes", action="store_true", help="do it (default: only print what would happen)")
    p.add_argument("--remote", default="origin", help="git remote to check branches on (default: origin)")
    p.add_argument(
        "--skip-branch-check",
        action="store_true",
        help="do not ask the remote; reclaim only expired sandboxes",
    )
    p.add_argument(
        "--pause-idle",
        action="store_true",
        help="pause expired sandboxes whose git branch still exists instead of destroying them",
    )
    p.add_argument("--remove-stacks", action="store_true", help="also remove the stacks emptied")
    p.add_argument(
        "--orphans",
        action="store_true",
        help="also reclaim sbx-* lakeFS branches no stack owns (archive, then safe delete)",
    )
    p.add_argument(
        "--orphan-min-age",
        type=_duration,
        default=ORPHAN_MIN_AGE,
        metavar="AGE",
        help="leave orphan branches whose head commit is younger than this alone: a sandbox whose first "
        "`pulumi up` is under way may own one (default 1h; e.g. 12h, 2d)",
    )
    p.add_argument(
        "--jobs",
        type=_parallel,
        default=4,
        help=f"destroys at once (default 4, at most {MAX_PARALLEL})",
    )
    p.add_argument("--verbose", action="store_true", help="stream every engine line, prefixed by stack")
    _json_flag(p)


def _add_up(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "up",
        help="deploy the current branch's sandbox (creating its stack), streaming the engine",
        description="Finds the branch's sandbox stack (named sbx-<branch>, the sandbox's own name, "
        "or an existing stack whose gitBranch output is the branch) or creates sbx-<branch>, sets the "
        "given config, and runs `pulumi up`.",
        epilog=EPILOG,
    )
    _branch_flag(p, "to deploy; given, it is also set as sandbox:branch")
    p.add_argument("--stack", help="use this stack instead of the branch's")
    p.add_argument("--owner", help="set sandbox:owner (default: git user.email)")
    p.add_argument("--image", help="set sandbox:image (default: the tier's code image at HEAD)")
    p.add_argument("--ttl", help="set sandbox:ttl, e.g. 3d")
    _json_flag(p)


def _add_down(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "down",
        help="reclaim the current branch's sandbox through `pulumi destroy`",
        description="Destroys the branch's sandbox (delete guard, archive tag, safe delete). "
        "Uncommitted lakeFS changes refuse it, unless the stack itself sets "
        "sandbox:discardUncommitted to true (then they are dropped, as `pulumi destroy` would).",
        epilog=EPILOG,
    )
    _branch_flag(p, "whose sandbox to reclaim")
    p.add_argument("--stack", help="reclaim this stack instead of the branch's")
    p.add_argument("--remove-stack", action="store_true", help="also remove the emptied stack")
    _json_flag(p)


def _add_pause_resume(sub: argparse._SubParsersAction) -> None:
    for name, text in (
        ("pause", "scale the sandbox's Dagster to zero (sandbox:paused=true, then `pulumi up`)"),
        ("resume", "bring the sandbox's Dagster back (sandbox:paused=false, then `pulumi up`)"),
    ):
        p = sub.add_parser(
            name,
            help=text,
            description=f"{text[0].upper()}{text[1:]}. The namespace, run storage, lakeFS branch and "
            "catalog stay. Runs the program, so run it from a checkout of the sandbox's branch at the "
            "commit it was deployed at (its gitCommit output), unless sandbox:image pins the image.",
            epilog=EPILOG,
        )
        p.add_argument("stack", nargs="?", help="sandbox stack (default: the sandbox of the current branch)")
        _branch_flag(p, "whose sandbox to change")
        _json_flag(p)


def find_project_dir(start: Path) -> Path | None:
    """The nearest directory from ``start`` upwards whose Pulumi.yaml is this project's."""
    for directory in (start, *start.parents):
        project_file = directory / "Pulumi.yaml"
        if project_file.is_file() and _is_this_project(project_file):
            return directory
    return None


def _is_this_project(project_file: Path) -> bool:
    try:
        loaded = yaml.safe_load(project_file.read_text())
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(loaded, dict) and loaded.get("name") == PROJECT_NAME


def resolve_project_dir(given: Path | None) -> Path:
    if given is None and os.environ.get(PROJECT_DIR_ENV):
        given = Path(os.environ[PROJECT_DIR_ENV])
    if given is not None:
        if not (given / "Pulumi.yaml").is_file() or not _is_this_project(given / "Pulumi.yaml"):
            raise UsageError(f"--project-dir {given}: no Pulumi.yaml of project {PROJECT_NAME!r} there")
        return given.resolve()
    found = find_project_dir(Path.cwd()) or find_project_dir(Path(__file__).resolve().parent.parent)
    if found is None:
        raise UsageError(
            f"no Pulumi.yaml of project {PROJECT_NAME!r} here or above; run from the project checkout "
            "or pass --project-dir"
        )
    return found


@dataclass(frozen=True)
class Streams:
    """Where results and progress go."""

    out: Callable[[str], None]
    err: Callable[[str], None]


def _default_backend(project_dir: Path) -> StackBackend:
    # Lazy: pulumi.automation is only needed once a command really talks to the backend.
    from pipeline_sandbox_cli.pulumi_backend import PulumiBackend  # noqa: PLC0415

    return PulumiBackend(project_dir)


def main(
    argv: Sequence[str] | None = None,
    *,
    backend: StackBackend | None = None,
    now: Callable[[], datetime] | None = None,
) -> int:
    """Runs the command; returns the exit code (see the module docstring)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error argparse already printed (2)
        return int(exit_.code or 0)
    streams = Streams(
        out=lambda text: print(text, file=sys.stdout, flush=True),
        err=lambda text: print(text, file=sys.stderr, flush=True),
    )
    # After parsing: --help answers without importing Pulumi, pydantic or the lakeFS SDK.
    from pipeline_sandbox_cli import commands  # noqa: PLC0415

    try:
        project_dir = resolve_project_dir(args.project_dir)
        context = commands.Context(
            backend=backend or _default_backend(project_dir),
            project_dir=project_dir,
            default_tier=args.tier,
            parallel=args.parallel,
            out=streams.out,
            err=streams.err,
            now=now or (lambda: datetime.now(UTC)),
        )
        return commands.run(args.command, args, context)
    except UsageError as exc:
        print(f"pipeline-sandbox: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BackendError as exc:
        print(f"pipeline-sandbox: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())

"""The ``wasmbridge`` command: parse arguments, call one layer function, render.

Each subcommand is a ``register_*`` function that adds its parser and a
``cmd_*`` handler ``(args, term) -> exit code``. Library errors
(``WasmbridgeError``) are rendered once, in ``main``, as ``error:`` and
``hint:`` lines with exit code 1; anything else is a bug: exit 70 with a
"please report" banner and the traceback.

Heavy imports (wasmtime, the build layer) happen inside the handlers, so
``wasmbridge --help`` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ._term import COLOR_CHOICES, Terminal
from .errors import WasmbridgeError

if TYPE_CHECKING:
    from .build.pipeline import Target
    from .runtime.sandbox.limits import Limits

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SERVE = 3  # a server could not start (uvicorn's code)
EXIT_BUG = 70

Handler = Callable[[argparse.Namespace, Terminal], int]


# -- commands ---------------------------------------------------------------------


def cmd_new(args: argparse.Namespace, term: Terminal) -> int:
    from .build.scaffold import create_crate, lib_name
    from .build.sdk import require_sdk

    directory = create_crate(Path(args.path), require_sdk(), name=args.name)
    name = args.name or directory.resolve().name
    term.step("Created", f"crate `{name}` in {directory}")
    term.info(f"next: cd {directory} && wasmbridge build  (writes pkg/{lib_name(name)}.wasm)")
    term.result(str(directory))
    return EXIT_OK


def cmd_build(args: argparse.Namespace, term: Terminal) -> int:
    from .build.pipeline import BuildOptions, build, finished_line, glue_line, show_path
    from .build.report import render_sizes
    from .codegen.glue import write_glue

    if args.no_simd and args.profile != "speed":
        term.error(
            "--no-simd applies to the speed profile; the size profile never uses simd128",
            hints=["wasmbridge build --profile speed --no-simd"],
        )
        return EXIT_USAGE
    options = BuildOptions(
        crate_dir=Path(args.path),
        out_dir=Path(args.out_dir),
        dev=args.dev,
        panic_messages=args.panic_messages,
        color=term.color_err,
        quiet=term.quiet,
        targets=_targets(args.target),
        build_profile=args.profile,
        no_simd=args.no_simd,
    )
    result = build(options, term, glue=write_glue)
    term.info("\n".join(render_sizes(result.sizes, top=10)))
    if result.glue:
        term.step("Glue", glue_line(result))
    term.step("Finished", finished_line(result))
    for path in result.outputs:
        term.result(show_path(path))
    return EXIT_OK


def _targets(chosen: list[str] | None) -> frozenset[Target]:
    """``--target web --target python`` or ``--target web,python``; ``all`` is every one."""
    from .build.pipeline import DEFAULT_TARGETS, TARGETS

    if not chosen:
        return DEFAULT_TARGETS
    names = {name.strip() for value in chosen for name in value.split(",") if name.strip()}
    return frozenset(TARGETS) if "all" in names else frozenset(t for t in TARGETS if t in names)


def cmd_serve_pkg(args: argparse.Namespace, term: Terminal) -> int:
    from .devserver import PackageServer

    directory = Path(args.dir)
    try:
        server = PackageServer(directory, port=args.port)
    except OSError as exc:
        term.error(
            f"cannot serve {directory} on 127.0.0.1:{args.port}: {exc.strerror or exc}",
            hints=["pick another port with --port (0 picks a free one)"],
        )
        return EXIT_SERVE
    with server:
        term.step("Serving", f"{directory}/ ({server.wasm.name}) at {server.url}; Ctrl+C stops")
        term.result(server.url)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, term: Terminal) -> int:
    from .errors import ListenError
    from .serve.server import (
        ServeOptions,
        bind,
        load_app,
        loading_log,
        route_lines,
        serve,
    )

    host, port = args.listen
    try:
        sock = bind(host, port)
    except ListenError as exc:
        term.error(str(exc), hints=_hints(exc))
        return EXIT_SERVE
    with sock:
        options = ServeOptions(
            manifest=_manifest_path(args.manifest),
            host=host,
            port=sock.getsockname()[1],  # the port picked for --listen HOST:0
            workers=args.workers,
            watch=args.watch,
            debug=args.debug,
            threads=args.threads,
            queue=args.queue,
            access_log=not args.no_access_log,
            log_level="warning" if term.quiet else "info",
        )
        term.step("Loading", str(options.manifest))
        with loading_log(options.log_level):
            app = load_app(options)
        workers = f"{options.workers} worker{'s' if options.workers != 1 else ''}"
        watching = ", watching for changes" if options.watch else ""
        term.step(
            "Serving", f"{app.config.name} at {options.url} ({workers}{watching}); Ctrl+C stops"
        )
        for line in route_lines(app):
            term.step("Route", line.strip())
        term.result(options.url)
        return serve(options, app, sock)


def _manifest_path(given: str | None) -> Path:
    """MANIFEST, or ./wasmbridge.toml, or ./spin.toml when only that one exists."""
    if given is not None:
        return Path(given)
    default = Path("wasmbridge.toml")
    if not default.exists() and Path("spin.toml").exists():
        return Path("spin.toml")
    return default


def cmd_doctor(args: argparse.Namespace, term: Terminal) -> int:
    from .build.doctor import render_doctor, run_doctor

    report = run_doctor()
    term.results(render_doctor(report, term.symbol))
    error = report.error()
    if error is not None:
        term.error(str(error), hints=_hints(error))
        return EXIT_ERROR
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace, term: Terminal) -> int:
    from .build.report import (
        describe_module,
        json_text,
        module_json,
        read_module_file,
        render_module,
    )

    path = Path(args.file)
    report = describe_module(read_module_file(path), str(path))
    if args.wit:
        from .build.report_types import wit_text

        term.result(wit_text(report.interface, str(path)).rstrip("\n"))
    elif args.json:
        term.result(json_text(module_json(report)))
    else:
        term.results(render_module(report, top=args.top))
    return EXIT_OK


def cmd_run(args: argparse.Namespace, term: Terminal) -> int:
    from .runtime.sandbox.run import run as run_command

    limits = _run_limits(args)
    stdin: bytes | Literal["inherit"] = "inherit"
    if args.stdin is not None:
        with args.stdin:
            stdin = args.stdin.read()
    result = run_command(
        args.module,
        args.args,
        dirs=dict(args.dir or ()),
        env=dict(args.env or ()),
        stdin=stdin,
        stdout=args.stdout,
        stderr=args.stderr,
        limits=limits,
    )
    return result.exit_status


# -- parsers ----------------------------------------------------------------------


def _common_options(*, suppress: bool) -> argparse.ArgumentParser:
    """-v/-q/--color, accepted before and after the subcommand."""
    parser = argparse.ArgumentParser(add_help=False)
    default = argparse.SUPPRESS if suppress else None  # main parser: set_defaults wins
    group = parser.add_argument_group("output options")
    group.add_argument(
        "-v", "--verbose", action="count", help="more detail (repeatable)", default=default
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="count",
        help="less output: -q hides steps, -qq warnings",
        default=default,
    )
    group.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        metavar="WHEN",
        help="colour output: auto, always or never (default: auto) [env: NO_COLOR, FORCE_COLOR]",
        default=default,
    )
    return parser


def register_new(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: list[argparse.ArgumentParser]
) -> None:
    p = sub.add_parser(
        "new",
        parents=common,
        help="create a Rust crate to build with wasmbridge",
        description="Create a crate with add(a, b) and greet(name); greet calls the host's alert.",
        epilog="example:\n  wasmbridge new hello && cd hello && wasmbridge build",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", metavar="PATH", help="directory to create (missing or empty)")
    p.add_argument("--name", help="crate name (default: the directory's name)")
    p.set_defaults(handler=cmd_new)


def register_build(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: list[argparse.ArgumentParser]
) -> None:
    p = sub.add_parser(
        "build",
        parents=common,
        help="compile a crate to pkg/NAME.wasm plus Python and JS glue",
        description=(
            "Compile the crate for wasm32-unknown-unknown with a build profile, run wasm-opt\n"
            "when installed, validate, and write NAME.wasm with the glue of each target:\n"
            "python (NAME.py, NAME.pyi), web (NAME.js, NAME.d.ts, package.json: an ES module\n"
            "for browsers and Node), node (web plus CommonJS NAME.cjs, NAME.d.cts).\n"
            "Progress goes to stderr, the written paths to stdout.\n"
            "\n"
            "Profiles: size (opt-level z, wasm-opt -Oz) and speed (opt-level 3, simd128,\n"
            "wasm-opt -O3), both with LTO, one codegen unit, panic=abort and strip, set\n"
            "through cargo's environment (Cargo.toml is left untouched). A [profile.release]\n"
            "key in Cargo.toml, .cargo/config.toml or CARGO_PROFILE_RELEASE_* wins over the\n"
            "profile's, except opt-level when --profile is given; the Compiling step names\n"
            "each one that changed the profile."
        ),
        epilog=(
            "examples:\n  wasmbridge build\n  wasmbridge build examples/hello --dev\n"
            "  wasmbridge build --target web\n  wasmbridge build --profile speed"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "path",
        metavar="PATH",
        nargs="?",
        default=".",
        help="crate directory or its Cargo.toml (default: .)",
    )
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--dev", action="store_true", help="debug build: fast, unoptimized, full panic messages"
    )
    how.add_argument(
        "--profile",
        choices=("size", "speed"),
        metavar="NAME",
        help="release profile: size (smallest module) or speed (fastest, with simd128); "
        "naming it makes its opt-level win over the user's (default: size)",
    )
    p.add_argument(
        "--no-simd",
        action="store_true",
        help="with --profile speed: no simd128, for engines without it (Safari < 16.4, "
        "Node < 16.4)",
    )
    p.add_argument(
        "--panic-messages",
        action="store_true",
        help="release build with formatted panic messages (costs ~3.5 KB)",
    )
    p.add_argument(
        "--out-dir",
        metavar="DIR",
        default="pkg",
        help="output directory, relative to the crate (default: pkg)",
    )
    p.add_argument(
        "--target",
        metavar="T",
        action="append",
        type=_target_list,
        help="glue to write: python, web, node or all; repeatable or comma-separated "
        "(default: python,web)",
    )
    p.set_defaults(handler=cmd_build)


def _target_list(value: str) -> str:
    from .build.pipeline import TARGETS

    for name in value.split(","):
        if name.strip() and name.strip() not in (*TARGETS, "all"):
            raise argparse.ArgumentTypeError(
                f"unknown target {name.strip()!r} (choose from python, web, node, all)"
            )
    return value


def register_serve_pkg(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: list[argparse.ArgumentParser]
) -> None:
    p = sub.add_parser(
        "serve-pkg",
        parents=common,
        help="serve pkg/ and a demo page on 127.0.0.1 for a browser",
        description=(
            "Serve DIR (a pkg/ written by `wasmbridge build --target web`) on 127.0.0.1,\n"
            ".wasm as application/wasm, with a demo page at / that imports the glue and\n"
            "leaves the module in window.NAME. Prints the URL to stdout; Ctrl+C stops."
        ),
        epilog="examples:\n  wasmbridge serve-pkg\n  wasmbridge serve-pkg hello/pkg --port 0",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "dir", metavar="DIR", nargs="?", default="pkg", help="the package directory (default: pkg)"
    )
    p.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port on 127.0.0.1; 0 picks a free one (default: 8000)",
    )
    p.set_defaults(handler=cmd_serve_pkg)


def register_serve(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: list[argparse.ArgumentParser]
) -> None:
    from .serve.server import DEFAULT_HOST, DEFAULT_PORT, LISTEN_ENV

    p = sub.add_parser(
        "serve",
        parents=common,
        help="serve WebAssembly HTTP handlers named in a manifest",
        description=(
            "Serve the routes of MANIFEST over HTTP: bridge handlers (an exported\n"
            "handle(Request) -> Response), WAGI handlers (any WASI command, CGI style) and\n"
            "static folders. Each request runs in a fresh sandboxed instance with the\n"
            "route's limits; crate folders named as modules are built at start. /healthz\n"
            "answers ok, /metrics the Prometheus metrics. Prints the URL to stdout; the\n"
            "routes, then an access log, go to stderr. SIGINT or SIGTERM stops it after the\n"
            "requests in flight finish. Exits 1 on a bad manifest, 3 when it cannot listen."
        ),
        epilog=(
            "examples:\n"
            "  wasmbridge serve\n"
            "  wasmbridge serve app/wasmbridge.toml --listen 0.0.0.0:8080 --workers 4 --watch\n"
            "  wasmbridge serve spin.toml"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "manifest",
        metavar="MANIFEST",
        nargs="?",
        help="wasmbridge.toml or spin.toml (default: ./wasmbridge.toml, else ./spin.toml)",
    )
    p.add_argument(
        "--listen",
        metavar="HOST:PORT",
        type=_listen,
        default=os.environ.get(LISTEN_ENV) or f"{DEFAULT_HOST}:{DEFAULT_PORT}",  # parsed by type
        help=f"address to listen on; port 0 picks a free one (default: "
        f"{DEFAULT_HOST}:{DEFAULT_PORT}) [env: {LISTEN_ENV}]",
    )
    p.add_argument(
        "--workers",
        metavar="N",
        type=_positive(int),
        default=1,
        help="processes sharing the socket and the compile cache; about one per core (default: 1)",
    )
    p.add_argument(
        "--watch",
        action="store_true",
        help="reload when the manifest, a module or a crate's sources change; requests "
        "in flight finish on the old version",
    )
    p.add_argument(
        "--debug", action="store_true", help="put a failed handler's error in the 500 body"
    )
    p.add_argument(
        "--threads",
        metavar="N",
        type=_positive(int),
        default=8,
        help="requests each worker runs at once (default: 8)",
    )
    p.add_argument(
        "--queue",
        metavar="N",
        type=_non_negative,
        default=64,
        help="requests each worker holds waiting beyond those; more get 503 (default: 64)",
    )
    p.add_argument("--no-access-log", action="store_true", help="no line per request")
    p.set_defaults(handler=cmd_serve)


def _listen(text: str) -> tuple[str, int]:
    from .serve.server import parse_listen

    try:
        return parse_listen(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {text!r}")
    return value


def register_doctor(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: list[argparse.ArgumentParser]
) -> None:
    p = sub.add_parser(
        "doctor",
        parents=common,
        help="check the toolchain pieces and say how to fix missing ones",
        description=(
            "Check every toolchain piece (each rustc and its wasm32 target, cargo, wasm-opt,\n"
            "wat2wasm, node, chromium, wasmtime-py, the Rust SDK) and print the fix for\n"
            "each missing one. Exits 1 when `wasmbridge build` cannot work."
        ),
        epilog="example:\n  wasmbridge doctor",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=cmd_doctor)


def register_inspect(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: list[argparse.ArgumentParser]
) -> None:
    p = sub.add_parser(
        "inspect",
        parents=common,
        help="show a module's interface, wasm imports/exports and sizes",
        description=(
            "Show a module's interface (exports and imports with signatures and docs;\n"
            "records, enums and classes with their fields, cases and methods), its wasm\n"
            "imports and exports with their wasm types, and its size by section and by\n"
            "function (names from the name section or the exports)."
        ),
        epilog=(
            "examples:\n"
            "  wasmbridge inspect pkg/hello.wasm\n"
            "  wasmbridge inspect --json pkg/hello.wasm\n"
            "  wasmbridge inspect --wit pkg/hello.wasm > hello.wit"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="a .wasm module")
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON instead of text")
    output.add_argument(
        "--wit", action="store_true", help="print the interface as a WIT world (component model)"
    )
    p.add_argument(
        "--top", type=int, default=20, metavar="N", help="functions listed by size (default: 20)"
    )
    p.set_defaults(handler=cmd_inspect)


def register_run(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: list[argparse.ArgumentParser]
) -> None:
    p = sub.add_parser(
        "run",
        parents=common,
        help="run a WASI program (a .wasm with _start) in the sandbox",
        description=(
            "Run a WASI command in a sandboxed child process. Nothing is granted unless asked:\n"
            "no files but the --dir grants, no environment but --env, no network; argv[0] is\n"
            "the module's name; stdin, stdout and stderr are this process's unless redirected.\n"
            "Exits with the program's exit code (above 255: 255), or 1 when the sandbox stops\n"
            "it (a limit, a trap, a bad module), after one error line."
        ),
        epilog=(
            "examples:\n"
            "  wasmbridge run tool.wasm -- --help\n"
            "  wasmbridge run tool.wasm --dir ./in::/in:ro --dir ./out::/out --env MODE=fast \\\n"
            "      --timeout 2 --max-memory 64 -- arg1 arg2\n"
            "  wasmbridge run server.wasm --timeout none --max-memory 1024"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.__class__ = _RunParser  # everything after `--` goes to the program
    p.add_argument("module", metavar="MODULE", help="the .wasm program")
    p.add_argument("args", metavar="ARG", nargs="*", help="its arguments (after --)")
    grants = p.add_argument_group("grants")
    grants.add_argument(
        "--dir",
        metavar="HOST::GUEST[:ro]",
        action="append",
        type=_grant("parse_dir"),
        help="let it see directory HOST at GUEST, read-write or :ro (repeatable)",
    )
    grants.add_argument(
        "--env",
        metavar="NAME=VALUE",
        action="append",
        type=_grant("parse_env"),
        help="set one environment variable (repeatable)",
    )
    grants.add_argument(
        "--stdin", metavar="FILE", type=argparse.FileType("rb"), help="read stdin from FILE"
    )
    grants.add_argument("--stdout", metavar="FILE", help="write stdout to FILE")
    grants.add_argument("--stderr", metavar="FILE", help="write stderr to FILE")
    limits = p.add_argument_group(
        "limits (default: Limits.untrusted(), docs/sandbox.md; each flag replaces one)"
    )
    limits.add_argument(
        "--timeout",
        metavar="S",
        type=_limit(float),
        help="wall-clock seconds, or none (default: 10)",
    )
    limits.add_argument(
        "--max-memory",
        metavar="MB",
        type=_limit(float),
        help="linear memory in total, in MiB, or none (default: 128)",
    )
    limits.add_argument(
        "--max-table",
        metavar="N",
        type=_positive(int),
        help="table elements in total (default: 100000)",
    )
    limits.add_argument(
        "--fuel",
        metavar="N",
        type=_limit(int),
        help="instructions budget, deterministic; a sleep costs 1 per ns (default: none)",
    )
    limits.add_argument(
        "--max-stack",
        metavar="KB",
        type=_positive(int, 15, 65537),
        help="wasm stack, in KiB, 16 to 65536 (default: 512)",
    )
    limits.add_argument(
        "--max-output",
        metavar="BYTES",
        type=_limit(int),
        help="cap on stdout and stderr, each, or none (default: 16 MiB)",
    )
    limits.add_argument(
        "--max-module",
        metavar="BYTES",
        type=_positive(int),
        help="size of the .wasm file (default: 32 MiB)",
    )
    limits.add_argument(
        "--compile-timeout",
        metavar="S",
        type=_positive(float),
        help="CPU seconds to compile it (default: 1 + 8 per MiB of code)",
    )
    limits.add_argument(
        "--compile-memory",
        metavar="MB",
        type=_positive(float),
        help="memory to compile it, in MiB (default: 512 + 128 per MiB of code)",
    )
    p.set_defaults(handler=cmd_run)


class _RunParser(argparse.ArgumentParser):
    """``run MODULE [options] -- ARG ...``: argparse alone would not take ARGs after options."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        argv = list(sys.argv[1:] if args is None else args)
        if "--" not in argv:
            return super().parse_known_args(argv, namespace)
        cut = argv.index("--")
        parsed, extras = super().parse_known_args(argv[:cut], namespace)
        parsed.args = [*parsed.args, *argv[cut + 1 :]]
        return parsed, extras


def _grant(parser: str) -> Callable[[str], tuple[str, object]]:
    """An argparse type for a grant spelling parsed in runtime/sandbox/grants.py."""

    def convert(text: str) -> tuple[str, object]:
        from .runtime.sandbox import grants

        try:
            result: tuple[str, object] = getattr(grants, parser)(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return result

    return convert


def _positive(
    kind: type[int] | type[float], low: float = 0, high: float = float("inf")
) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not low < value < high:
            shown = f"a number from {low + 1:g} to {high - 1:g}" if high < float("inf") else None
            raise argparse.ArgumentTypeError(
                f"expected {shown or 'a positive number'}, got {text!r}"
            )
        return value

    return convert


def _run_limits(args: argparse.Namespace) -> Limits:
    """``Limits.untrusted()``, each limit flag given replacing one field (``none``: unlimited)."""
    from .runtime.sandbox.limits import Limits

    given = {field: getattr(args, dest) for dest, field in _RUN_LIMITS.items()}
    changes = {f: None if v is _NO_LIMIT else v for f, v in given.items() if v is not None}
    return dataclasses.replace(Limits.untrusted(), **changes)


# `run` limit flags (argparse dest) -> the Limits field each replaces.
_RUN_LIMITS = {
    "timeout": "timeout_s",
    "max_memory": "memory_mb",
    "max_table": "table_elements",
    "fuel": "fuel",
    "max_stack": "stack_kb",
    "max_output": "max_output_bytes",
    "max_module": "max_module_bytes",
    "compile_timeout": "compile_s",
    "compile_memory": "compile_mb",
}
_NO_LIMIT = object()  # a limit flag given as `none`: that limit lifted


def _limit(
    kind: type[int] | type[float], low: float = 0, high: float = float("inf")
) -> Callable[[str], object]:
    """A limit flag's value: a positive number as ``_positive`` reads it, or ``none`` (no
    limit: for the limits whose None means unlimited, not a default)."""
    number = _positive(kind, low, high)

    def convert(text: str) -> object:
        return _NO_LIMIT if text.strip().lower() == "none" else number(text)

    return convert


COMMANDS = (
    register_new,
    register_build,
    register_serve,
    register_doctor,
    register_inspect,
    register_serve_pkg,
    register_run,
)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(
        prog="wasmbridge",
        description="Turn a Rust crate into a small self-describing .wasm and call it from Python.",
        parents=[_common_options(suppress=False)],
        epilog="Run `wasmbridge COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.set_defaults(verbose=0, quiet=0, color="auto", handler=None)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    common = [_common_options(suppress=True)]
    for register in COMMANDS:
        register(sub, common)
    return parser


# -- the boundary -----------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (tests call this directly)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.handler is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    term = Terminal.from_env(verbosity=(args.verbose or 0) - (args.quiet or 0), color=args.color)
    return run(args.handler, args, term)


def run(handler: Handler, args: argparse.Namespace, term: Terminal) -> int:
    """Call ``handler``, turning exceptions into messages and exit codes."""
    try:
        return handler(args, term)
    except WasmbridgeError as exc:
        if term.verbosity >= 1:
            term.traceback(traceback.format_exc())
        term.error(str(exc), hints=_hints(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        term.error("interrupted")
        return 130
    except Exception:  # a bug: say so, with everything needed to report it
        term.error(
            "wasmbridge crashed; this is a bug, please report it",
            hints=["include the command you ran and the traceback below"],
        )
        term.traceback(traceback.format_exc())
        return EXIT_BUG


def _hints(exc: WasmbridgeError) -> list[str]:
    return [exc.hint] if exc.hint else []


def _version() -> str:
    from .codegen._writer import tool_version

    return tool_version()

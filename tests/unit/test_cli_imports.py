"""Each ``sigap`` command imports only what it uses (issue 16: CLI start-up is part of the CLI).

A technician runs these commands all day: ``--help`` must not load the database layer, and
no ticket command may load netmiko, pysnmp, Apprise, Starlette or openpyxl. Each command runs
as its own process; at exit it writes which heavy top-level packages ended up in
``sys.modules``. Timing lives in ``tests/bench/test_cli_startup_bench.py``, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agent.cli import (
    _VALUED_ROOT_OPTIONS,
    COMMANDS,
    SHORT_LIVED,
    build_app,
    command_of,
    listing_app,
)
from agent.config.load import load_inventory
from agent.wiring import open_store
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventory.yaml"
HEAVY = (
    "sqlalchemy", "alembic", "psycopg", "pydantic", "netmiko", "paramiko", "pysnmp", "pyasn1",
    "cryptography", "openpyxl", "starlette", "uvicorn", "jinja2", "apprise", "asyncssh",
    "imapclient", "prometheus_client", "argon2",
)  # fmt: skip
DEVICE_STACK = frozenset({"netmiko", "paramiko", "pysnmp", "pyasn1", "asyncssh", "cryptography"})
WEB_STACK = frozenset({"starlette", "uvicorn", "jinja2", "argon2", "prometheus_client"})
TYPER_OWN = frozenset({"pydantic"})  # typer 0.29 coerces option values with pydantic
PROBE = """
import atexit, json, os, sys
def dump():
    loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(os.environ["HEAVY"])))
    with open(os.environ["IMPORTS_OUT"], "w") as fh:
        json.dump(loaded, fh)
atexit.register(dump)
sys.argv = ["sigap", *json.loads(os.environ["ARGS"])]
from agent.cli import main
main()
"""


def loaded_by(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> set[str]:
    """The heavy packages a ``sigap`` process with ``args`` imported; it must exit 0."""
    out = tmp_path / "imports.json"
    environ = {
        **os.environ,
        **(env or {}),
        "HEAVY": json.dumps(HEAVY),
        "ARGS": json.dumps(args),
        "IMPORTS_OUT": str(out),
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"sigap {' '.join(args)}: exit {proc.returncode}\n{proc.stderr}"
    return set(json.loads(out.read_text()))


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A SQLite ticket database with one ticket; (URL, ticket number)."""
    db = tmp_path_factory.mktemp("cli") / "t.db"
    inventory = load_inventory(INVENTORY)
    device = next(iter(inventory.devices.values()))
    url = f"sqlite:///{db}"
    with open_store(inventory, url) as store:
        migrate(store)
        fault = Fault(device.name, FaultKind.DEVICE_DOWN, "uji", device.opd)
        number = store.open_fault(fault, at=datetime(2026, 11, 2, 1, 0, tzinfo=UTC)).ticket.number
    return url, number


HELP = [
    ["--help"],
    ["tiket", "--help"],
    ["tiket", "list", "--help"],
    ["diagnose", "--help"],
    ["web", "--help"],
    ["lab", "--help"],
    ["notifikasi", "--help"],
    ["remediasi", "--help"],
    ["program-kegiatan", "--help"],
    ["laporan", "bulanan", "--help"],
    ["laporan", "ketersediaan", "--help"],
    ["laporan", "trafik", "--help"],
]


@pytest.mark.parametrize("args", HELP, ids=" ".join)
def test_help_loads_nothing_heavy(args: list[str], tmp_path: Path) -> None:
    assert loaded_by(args, tmp_path) <= TYPER_OWN


def test_check_loads_only_the_config_stack(tmp_path: Path) -> None:
    assert loaded_by(["check", str(INVENTORY)], tmp_path) <= {"pydantic"}


@pytest.mark.parametrize("command", ["list", "show"])
def test_ticket_commands_load_the_database_but_no_device_or_web_stack(
    command: str, tmp_path: Path, database: tuple[str, str]
) -> None:
    url, number = database
    args = ["tiket", command, *([number] if command == "show" else []), "-i", str(INVENTORY)]
    loaded = loaded_by(args, tmp_path, {"SIGAP_DB_URL": url})
    assert "sqlalchemy" in loaded  # the probe sees what a command opens
    unused = DEVICE_STACK | WEB_STACK | {"openpyxl", "apprise", "imapclient", "alembic"}
    assert loaded & unused == set()  # reading needs no migration (Alembic)


def test_remediasi_list_loads_no_ssh_stack(tmp_path: Path) -> None:
    loaded = loaded_by(["remediasi", "list", "-i", str(INVENTORY)], tmp_path)
    assert loaded & (DEVICE_STACK | WEB_STACK | {"sqlalchemy"}) == set()


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["tiket", "list"], "tiket"),
        (["--debug", "tiket", "show", "GJ/2026/0001"], "tiket"),
        (["--log-level", "DEBUG", "run", "-i", "x.yaml"], "run"),
        (["--log-format=json", "check", "inventory.yaml"], "check"),
        (["--log-format", "tiket", "web"], "web"),  # the option's value is not the command
        (["--help"], None),
        ([], None),
    ],
)
def test_command_of_skips_the_root_options(argv: list[str], command: str | None) -> None:
    assert command_of(argv) == command


def test_long_running_commands_keep_the_garbage_collector() -> None:
    long_running = {"run", "web", "intake", "notifikasi", "demo", "lab", "konfigurasi"}
    assert SHORT_LIVED & long_running == set()


def _names(app: typer.Typer) -> list[str]:
    """The top-level names ``app`` offers, in the order of its help (commands, then groups)."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return list(group.commands)


@pytest.mark.parametrize("module", sorted(set(COMMANDS.values())))
def test_each_module_adds_exactly_the_commands_the_table_names(module: str) -> None:
    added = _names(build_app(next(c for c, m in COMMANDS.items() if m == module)))
    assert sorted(added) == sorted(c for c, m in COMMANDS.items() if m == module)


def test_the_full_app_lists_the_table_in_its_order() -> None:
    names = _names(build_app())
    assert sorted(names) == sorted(COMMANDS)
    assert [n for n in COMMANDS if n in names] == names  # the table's order is the help's order


@pytest.mark.parametrize("argv", [["tiket", "list"], ["--debug", "web", "token", "daftar"]])
def test_a_command_builds_only_its_own_module(argv: list[str]) -> None:
    command = command_of(argv)
    module = COMMANDS[command or ""]
    assert _names(build_app(command)) == [c for c, m in COMMANDS.items() if m == module]


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--help"], "program-kegiatan"),
        ([], "Perbaikan otomatis lewat SSH"),  # a group's help
        (["tket", "list"], "tiket"),  # did you mean
        (["--debug"], "Missing command"),
        (["--bogus"], "No such option"),
    ],
)
def test_the_listing_app_shows_what_the_full_app_shows(args: list[str], shown: str) -> None:
    runner = CliRunner()
    env = {"COLUMNS": "100"}
    listed = runner.invoke(listing_app(), args, env=env)
    full = runner.invoke(build_app(), args, env=env)
    assert (listed.exit_code, listed.output) == (full.exit_code, full.output)
    assert shown in full.output


def test_the_listing_app_cannot_run_a_command() -> None:
    app = listing_app()
    assert all(c.callback is None or c.callback.__doc__ for c in app.registered_commands)
    result = CliRunner().invoke(app, ["check", "inventory.yaml"])
    assert result.exit_code != 0  # its commands have no parameters; main() never routes one here


def test_command_of_knows_every_root_option_that_takes_a_value() -> None:
    # main() routes on command_of: a valued root option it did not skip would name the wrong module
    root = typer.main.get_command(build_app("tiket"))
    valued = {o for p in root.params if not getattr(p, "is_flag", True) for o in p.opts}
    assert valued == set(_VALUED_ROOT_OPTIONS)

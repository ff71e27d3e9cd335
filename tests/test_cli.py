import subprocess
import sys
from pathlib import Path

from mcp_server import cli


def test_version_and_help_are_instant_and_torch_free():
    code = (
        "import sys\n"
        "from mcp_server import cli\n"
        "try:\n    cli.main(['--version'])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'pai --version imported torch'\n"
        "assert 'libcst' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_lists_every_command(capsys):
    try:
        cli.main(["--help"])
    except SystemExit as stop:
        assert stop.code == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_unknown_command_is_an_error(capsys):
    try:
        code = cli.main(["no-such-command"])
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_console_script_prints_version():
    result = subprocess.run(["pai", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("pai ")


def _help(argv: list[str], capsys) -> str:
    try:
        cli.main(argv)
    except SystemExit as stop:
        assert stop.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_one_exit_status_table_printed_by_pai_and_every_subcommand(capsys):
    from mcp_server.cli import exit_status

    top = _help(["--help"], capsys)
    for code, meaning in exit_status.EXIT_STATUSES.items():
        assert f"{code} {meaning}" in top
    table = " ".join(exit_status.EXIT_STATUS_HELP.split())
    for name in cli.COMMANDS:
        assert table in _help([name, "--help"], capsys), name


def test_a_reader_that_closes_early_ends_the_command_quietly(tmp_path):
    """`pai perforate --json big.py | head -1`: no BrokenPipeError traceback, the documented status."""
    from mcp_server.cli.exit_status import CLOSED_PIPE

    fixture = Path(__file__).parent / "codemods" / "fixtures" / "mnist_cnn.in.py"
    script = tmp_path / "big.py"
    script.write_text(fixture.read_text() + f"BLOB = {'x' * 100_000!r}\n")  # source and diff in the JSON: far beyond a pipe's 64 kB
    child = subprocess.Popen([sys.executable, "-m", "mcp_server.cli", "perforate", "--json", str(script)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"["
    child.stdout.close()  # the next writes hit a closed pipe
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=120) == CLOSED_PIPE
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def test_the_cli_and_the_server_accept_the_same_largest_script():
    from codemods.analysis.source import MAX_BYTES
    from mcp_server.workspace import MAX_SCRIPT_BYTES

    assert MAX_BYTES == MAX_SCRIPT_BYTES

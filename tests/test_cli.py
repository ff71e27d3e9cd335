import subprocess
import sys

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

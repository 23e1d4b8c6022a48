from click.testing import CliRunner

from arbkit.cli import cli


def test_help_lists_every_command_group():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "record", "live", "replay", "stats", "query", "report", "sandbox", "markets"):
        assert f"  {command}" in result.output


def test_every_command_has_a_docstring():
    for name, command in cli.commands.items():
        assert command.help, f"arbkit {name} has no help text"

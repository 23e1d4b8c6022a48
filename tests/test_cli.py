import click
from click.testing import CliRunner

from arbkit.cli import cli


def test_help_lists_every_command_group():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "record", "live", "replay", "stats", "query", "report", "sandbox", "markets", "sweep"):
        assert f"  {command}" in result.output


def test_every_command_has_a_docstring():
    for name, command in cli.commands.items():
        assert command.help, f"arbkit {name} has no help text"


def _leaf_commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_command_is_built_and_its_help_exits_0():
    # No command may be listed as if it worked while it is a placeholder.
    for path, _ in _leaf_commands(cli):
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "not built" not in result.output.lower(), path

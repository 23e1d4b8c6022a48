import click
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


def _leaf_commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_a_command_not_built_yet_says_so_in_help_and_exits_2_naming_no_internal_process():
    # Whatever is still unbuilt when this runs: each is found by running it with no arguments.
    unbuilt = []
    for path, _ in _leaf_commands(cli):
        result = CliRunner().invoke(cli, list(path))
        if "not built" not in result.output:
            continue
        unbuilt.append(path)
        assert result.exit_code == 2, (path, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
        assert "issue" not in lines[0] and "landed" not in lines[0], lines[0]
        parent = CliRunner().invoke(cli, [*path[:-1], "--help"]).output
        listed = [line for line in parent.splitlines() if line.strip().startswith(path[-1] + " ")]
        assert listed and "(not built yet)" in listed[0], (path, listed)
        assert CliRunner().invoke(cli, [*path, "--some", "arg"]).exit_code == 2


def test_not_built_registers_a_command_that_says_so_and_exits_2():
    from arbkit.cli._common import not_built

    group = click.Group("arbkit")
    not_built(group, "thing", "Do the thing.")

    help_text = CliRunner().invoke(group, ["--help"]).output
    result = CliRunner().invoke(group, ["thing", "PATH", "--flag"])

    assert "(not built yet) Do the thing." in help_text
    assert result.exit_code == 2
    assert result.output == "Error: `arbkit thing` is not built yet in this version of arbkit\n"

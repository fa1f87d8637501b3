"""Issue 20's new-user findings that a help text or an error message shows."""

from typer.testing import CliRunner

from tpstvsr_cli.cli import app


def help_text(*command: str) -> str:
    """The help as one line of words: the table's borders and line wraps removed."""
    output = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).output
    return " ".join(output.replace("│", " ").split())


def test_batch_help_keeps_the_ray_extra_in_brackets():
    # rich markup took "[ray]" for a style tag and printed pip install "tpstvsr" (issue 20).
    assert 'pip install ".[ray]"' in help_text("batch")

"""The `live --paper` dashboard in a standard 80x24 terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "engine"))

from engine_recordings import MS, PAIR, T0, Recording, config_text, standard_opening  # noqa: E402

from arbkit.config import parse_config  # noqa: E402
from arbkit.core.frame import Frame  # noqa: E402
from arbkit.core.pairs import DIRECTIONS  # noqa: E402
from arbkit.runner.live import PaperSession  # noqa: E402

LONG = "NBA 2026-01-06 Cleveland Cavaliers at Indiana Pacers: Cleveland wins by more than 7.5"


def _session(tmp_path: Path, extra_pairs: int) -> PaperSession:
    text = config_text().replace(PAIR, LONG)
    for i in range(extra_pairs):
        text += (f'\n[[pairs]]\nname = "{LONG} #{i}"\nkalshi_ticker = "KX-{i}"\n'
                 f'polymarket_yes_token = "y{i}"\npolymarket_no_token = "n{i}"\n')
    console = Console(width=80, height=24, record=True, file=open("/dev/null", "w"), color_system=None)
    session = PaperSession(parse_config(text), tmp_path / "run", console=console)
    rec = Recording()
    standard_opening(rec)
    rec.poly_change(T0 + 1_000 * MS, "BUY", "0.50", "100")  # an opportunity opens and stays open
    for seq, (t, venue, conn_id, kind, payload) in enumerate(rec.rows):
        session._on_frame(Frame("S", seq, t, t - T0, venue, conn_id, kind, payload))
    return session


def _screen(session: PaperSession) -> list[str]:
    console = session.console
    console.print(session.render())
    return console.export_text().rstrip("\n").split("\n")


def test_dashboard_fits_80_by_24_wrapping_long_pair_names_instead_of_cutting_them(tmp_path):
    session = _session(tmp_path, extra_pairs=0)

    lines = _screen(session)

    assert len(lines) <= 24, "\n".join(lines)
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    text = "\n".join(lines)
    assert "..." not in text and "…" not in text, text
    # The whole name is there (in the books and the open window), wrapped over lines.
    assert all(text.count(word) >= 2 for word in LONG.split()), text


def test_dashboard_shows_the_session_elapsed_time_and_the_run_tables_direction_labels(tmp_path):
    session = _session(tmp_path, extra_pairs=0)
    session.recorder.session_id = "20261206T030000Z-abcdef"
    session._started = 0.0  # long ago: some hours elapsed

    text = "\n".join(_screen(session))

    assert "session 20261206T030000Z-abcdef" in text and "elapsed " in text
    [window] = session.engine.detector.open_windows()
    assert window.direction in DIRECTIONS and window.direction in text, text
    for plain in ("frames", "reconnects", "last error", "kalshi bid", "poly ask", "peak edge", "approved"):
        assert plain in text, plain


def test_dashboard_with_more_pairs_than_rows_counts_the_rest_and_still_fits(tmp_path):
    session = _session(tmp_path, extra_pairs=30)

    lines = _screen(session)

    assert len(lines) <= 24, "\n".join(lines)
    assert all(len(line) <= 80 for line in lines)
    assert any("more pairs)" in line for line in lines), "\n".join(lines)

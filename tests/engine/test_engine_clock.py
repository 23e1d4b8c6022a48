"""The engine's clock never steps back (issue 16, item 6).

`recv_ns` is the recorder's wall clock, which NTP can step back. The engine runs on the running
maximum of `recv_ns`, so a frame received "earlier" than one before it is processed at the later
time. Recordings start from `standard_opening` (see test_replay_engine_behaviour.py): a Polymarket
YES bid at 0.50 opens a window buying Kalshi YES at 0.45 and Polymarket NO at 0.50.
"""

from __future__ import annotations

from engine_recordings import MS, T0, Recording, config_text, run, standard_opening

SECOND = 1_000 * MS


def test_a_stale_window_does_not_reopen_when_the_clock_steps_back(tmp_path):
    # Arrange: the Kalshi book's last update is at T0 + 2 ms; max staleness 5 s. The window goes
    # stale at T0 + 6 s; then the wall clock steps back 4 s and a Polymarket change arrives. At
    # its recorded time the Kalshi book would look 2 s old, fresh enough to reopen the window.
    rec = Recording()
    standard_opening(rec)
    opened = rec.poly_change(T0 + 1 * SECOND, "BUY", "0.50", "100")
    stale = rec.poly_text(T0 + 6 * SECOND)
    back = rec.poly_change(T0 + 2 * SECOND, "BUY", "0.50", "200")
    rec.poly_text(T0 + 7 * SECOND)

    # Act
    tables = run(rec, tmp_path, config_text(max_staleness_ms=5000))

    # Assert
    [window] = tables["opportunities"]
    assert (window["open_ingest_seq"], window["close_ingest_seq"]) == (opened, stale)
    assert window["close_reason"] == "stale"
    assert back > stale


def test_a_dated_fee_change_is_not_undone_when_the_clock_steps_back(tmp_path):
    # Arrange: from T0 + 1.5 s Polymarket charges 0.2 × p × (1 − p), which leaves no edge. The
    # window closes on the first frame after it; then the clock steps back to T0 + 1.2 s and a
    # deeper Polymarket bid arrives: under the old fee it would open a window again.
    config = config_text().replace(
        "polymarket_fee_rate = 0.03\n",
        "polymarket_fee_rate = 0.03\n"
        "fee_overrides = [{since = 2026-09-21T14:13:21.5Z, polymarket_fee_rate = 0.2}]\n",
    )
    rec = Recording()
    standard_opening(rec)
    opened = rec.poly_change(T0 + 1 * SECOND, "BUY", "0.50", "100")
    after = rec.poly_text(T0 + 1 * SECOND + 600 * MS)
    rec.poly_change(T0 + 1 * SECOND + 200 * MS, "BUY", "0.50", "200")
    rec.poly_text(T0 + 2 * SECOND)

    # Act
    tables = run(rec, tmp_path, config)

    # Assert
    [window] = tables["opportunities"]
    assert (window["open_ingest_seq"], window["close_ingest_seq"]) == (opened, after)
    assert window["close_reason"] == "edge_gone"


def test_every_output_time_follows_the_running_maximum_of_recv_ns(tmp_path):
    # Arrange: the YES bid at 0.50 comes and goes, opening and closing three windows, while the
    # clock steps back twice, once by 3 s.
    rec = Recording()
    standard_opening(rec)
    times = [T0 + 1 * SECOND, T0 + 4 * SECOND, T0 + 1 * SECOND + 5 * MS, T0 + 4 * SECOND + 10 * MS,
             T0 + 4 * SECOND + 5 * MS, T0 + 5 * SECOND]
    seqs = []
    for i, t in enumerate(times):
        seqs.append(rec.poly_change(t, "BUY", "0.50", "100" if i % 2 == 0 else "0"))
    clock = {seq: max(times[: i + 1]) for i, seq in enumerate(seqs)}

    # Act
    tables = run(rec, tmp_path, config_text(max_staleness_ms=60_000))

    # Assert: each window's times are engine times of its frames, never a stepped-back recv_ns.
    windows = tables["opportunities"]
    assert [(w["open_ingest_seq"], w["close_ingest_seq"]) for w in windows] == [
        (seqs[0], seqs[1]), (seqs[2], seqs[3]), (seqs[4], seqs[5])
    ]
    for w in windows:
        assert (w["open_ns"], w["close_ns"]) == (clock[w["open_ingest_seq"]], clock[w["close_ingest_seq"]])
        assert w["duration_ns"] >= 0
    for table in ("risk_decisions", "orders", "fills", "pnl"):
        stamps = [r[k] for r in tables.get(table, []) for k in r if k.endswith("_ns") and r[k]]
        assert all(s >= T0 for s in stamps)
    health = {(r["venue"], r["market"]): r for r in tables["book_health"]}
    assert all((r["staleness_max_ns"] or 0) >= 0 for r in health.values())

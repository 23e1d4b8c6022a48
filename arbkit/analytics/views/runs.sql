-- runs: one row per run given to the analytics (`run` is its name): directory, mode
-- (`replay`, `live_paper`), the recording and sessions it read, frames processed, frames the
-- engine could not decode (`decode_errors`), and its config as JSON text.
SELECT run, run_dir, mode, recording, sessions, frames, decode_errors, arbkit_version, config
FROM src.runs

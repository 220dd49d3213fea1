-- The schema before versioned migrations (issue #12). IF NOT EXISTS throughout: an SCD
-- created by an earlier build is adopted as version 1 as it is.
CREATE TABLE IF NOT EXISTS measurements (
    dataset INTEGER NOT NULL,
    timestamp_us INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    window_start_ms INTEGER NOT NULL,
    window_ms INTEGER NOT NULL,
    cert_window_start_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (dataset, timestamp_us, sequence)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS measurements_by_cert_window
    ON measurements (dataset, cert_window_start_ms, timestamp_us, sequence);
-- Dataset windows with data, not sealed yet.
CREATE TABLE IF NOT EXISTS open_windows (
    dataset INTEGER NOT NULL,
    window_start_ms INTEGER NOT NULL,
    window_ms INTEGER NOT NULL,
    PRIMARY KEY (dataset, window_start_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS open_windows_by_start ON open_windows (window_start_ms);
-- Dataset windows whose set of measurements is fixed.
CREATE TABLE IF NOT EXISTS sealed_windows (
    dataset INTEGER NOT NULL,
    window_start_ms INTEGER NOT NULL,
    window_ms INTEGER NOT NULL,
    PRIMARY KEY (dataset, window_start_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sealed_windows_by_start ON sealed_windows (window_start_ms, window_ms);
-- The certifier's outbox: 'sealing' (roots not built yet), 'sealed', 'certified', 'conflict'.
CREATE TABLE IF NOT EXISTS certificates (
    window_start_ms INTEGER NOT NULL,
    window_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    sealed_ms INTEGER NOT NULL,
    root BLOB,
    datasets BLOB,
    block_number INTEGER,
    block_hash BLOB,
    extrinsic_index INTEGER,
    event TEXT,
    PRIMARY KEY (window_start_ms, window_ms)
);
CREATE INDEX IF NOT EXISTS certificates_by_state ON certificates (state, window_start_ms);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_ms INTEGER NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_reason ON dead_letters (reason);

-- The schema before versioned migrations (issue #12). IF NOT EXISTS throughout: an SCD
-- created by an earlier build is adopted as version 1 as it is.
CREATE TABLE IF NOT EXISTS measurements (
    dataset BIGINT NOT NULL,
    timestamp_us BIGINT NOT NULL,
    sequence BIGINT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    window_ms INTEGER NOT NULL,
    cert_window_start_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    record BYTEA NOT NULL,
    PRIMARY KEY (dataset, timestamp_us, sequence, window_start_ms)
) PARTITION BY RANGE (window_start_ms);
CREATE INDEX IF NOT EXISTS measurements_by_cert_window
    ON measurements (dataset, cert_window_start_ms, timestamp_us, sequence);
CREATE TABLE IF NOT EXISTS open_windows (
    dataset BIGINT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    window_ms INTEGER NOT NULL,
    PRIMARY KEY (dataset, window_start_ms)
);
CREATE INDEX IF NOT EXISTS open_windows_by_start ON open_windows (window_start_ms);
CREATE TABLE IF NOT EXISTS sealed_windows (
    dataset BIGINT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    window_ms INTEGER NOT NULL,
    PRIMARY KEY (dataset, window_start_ms)
);
CREATE INDEX IF NOT EXISTS sealed_windows_by_start ON sealed_windows (window_start_ms, window_ms);
CREATE TABLE IF NOT EXISTS certificates (
    window_start_ms BIGINT NOT NULL,
    window_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    sealed_ms BIGINT NOT NULL,
    root BYTEA,
    datasets BYTEA,
    block_number BIGINT,
    block_hash BYTEA,
    extrinsic_index BIGINT,
    event TEXT,
    PRIMARY KEY (window_start_ms, window_ms)
);
CREATE INDEX IF NOT EXISTS certificates_by_state ON certificates (state, window_start_ms);
CREATE TABLE IF NOT EXISTS dead_letters (
    id BIGSERIAL PRIMARY KEY,
    received_ms BIGINT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_reason ON dead_letters (reason);

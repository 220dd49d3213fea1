-- A measurement's key is its identity (dataset, timestamp_us, sequence), as on SQLite (issue
-- #12). Version 1 keyed it with its window start too, because the table was partitioned by
-- window start, and PostgreSQL wants the partition key in every unique key: a device whose
-- window_ms changed could then store one identity twice. Measurements are now partitioned by
-- device time, one partition per UTC day (`measurements_t<day>`), so the key is the identity.

ALTER TABLE measurements RENAME TO measurements_v1;
ALTER TABLE measurements_v1 RENAME CONSTRAINT measurements_pkey TO measurements_v1_pkey;
ALTER INDEX measurements_by_cert_window RENAME TO measurements_v1_by_cert_window;

CREATE TABLE measurements (
    dataset BIGINT NOT NULL,
    timestamp_us BIGINT NOT NULL,
    sequence BIGINT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    window_ms INTEGER NOT NULL,
    cert_window_start_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    record BYTEA NOT NULL,
    PRIMARY KEY (dataset, timestamp_us, sequence)
) PARTITION BY RANGE (timestamp_us);
CREATE INDEX measurements_by_cert_window
    ON measurements (dataset, cert_window_start_ms, timestamp_us, sequence);

DO $$
DECLARE
    day BIGINT;
BEGIN
    FOR day IN SELECT DISTINCT timestamp_us / 86400000000 FROM measurements_v1 LOOP
        EXECUTE format(
            'CREATE TABLE measurements_t%s PARTITION OF measurements FOR VALUES FROM (%s) TO (%s)',
            day, day * 86400000000, (day + 1) * 86400000000);
    END LOOP;
END $$;

-- Of an identity stored twice, the copy received first stays the measurement. The others stay
-- leaves of the windows they were placed in (`measurements_superseded`, read with the
-- measurements of a window): the certificates that counted them still rebuild, the proofs of
-- their neighbours still verify, and a window not yet sealed still certifies them.
INSERT INTO measurements
SELECT DISTINCT ON (dataset, timestamp_us, sequence)
    dataset, timestamp_us, sequence, window_start_ms, window_ms, cert_window_start_ms,
    received_ms, record
FROM measurements_v1
ORDER BY dataset, timestamp_us, sequence, received_ms, cert_window_start_ms, window_ms;

CREATE TABLE measurements_superseded (
    dataset BIGINT NOT NULL,
    timestamp_us BIGINT NOT NULL,
    sequence BIGINT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    window_ms INTEGER NOT NULL,
    cert_window_start_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    record BYTEA NOT NULL,
    PRIMARY KEY (dataset, timestamp_us, sequence, window_start_ms)
);
CREATE INDEX measurements_superseded_by_cert_window
    ON measurements_superseded (dataset, cert_window_start_ms);

INSERT INTO measurements_superseded
SELECT o.dataset, o.timestamp_us, o.sequence, o.window_start_ms, o.window_ms,
    o.cert_window_start_ms, o.received_ms, o.record
FROM measurements_v1 o
JOIN measurements n USING (dataset, timestamp_us, sequence)
WHERE (o.window_start_ms, o.window_ms, o.cert_window_start_ms)
    IS DISTINCT FROM (n.window_start_ms, n.window_ms, n.cert_window_start_ms);

DROP TABLE measurements_v1;

-- One row the CDC connector updates every heartbeat (heartbeat.action.query). While products do
-- not change, those updates are the only changes the connector sees, and confirming them lets
-- its replication slot release the WAL that other tables and databases write meanwhile. The
-- connector drops their records before Kafka: no view ever sees them.
CREATE TABLE cdc_heartbeat (
  id      integer     PRIMARY KEY CHECK (id = 1),
  beat_at timestamptz NOT NULL
);
INSERT INTO cdc_heartbeat (id, beat_at) VALUES (1, now());

-- Each ingest worker reports its counters here every half minute, so `voltrent cloud doctor`
-- and operators see every worker of a deployment without reaching into its process.
CREATE TABLE worker_status (
    client_id text PRIMARY KEY,
    hostname text NOT NULL,
    pid integer NOT NULL,
    started_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    shared_subscription boolean NOT NULL,
    counters jsonb NOT NULL DEFAULT '{}'
);

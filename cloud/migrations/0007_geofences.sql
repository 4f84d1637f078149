-- Geofences and which devices each one applies to. Small tables, not time series: the same
-- on both store layouts. The ingest worker (later) loads them into a FenceIndex.

-- A fence is either the GeoJSON (Multi)Polygon the user gave, kept as given, or a circle
-- (centre and radius in metres), never both: the worker builds the circle's polygon itself
-- from the same three numbers, so nothing derived is stored that could drift.
CREATE TABLE geofence (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CONSTRAINT geofence_name_length CHECK (length(name) BETWEEN 1 AND 200),
    kind text NOT NULL CONSTRAINT geofence_kind CHECK (kind IN ('keep_in', 'keep_out')),
    geometry jsonb,                    -- GeoJSON Polygon or MultiPolygon, lon/lat WGS-84
    circle_lat double precision,
    circle_lon double precision,
    circle_radius_m double precision CONSTRAINT geofence_radius CHECK (circle_radius_m > 0),
    margin_m double precision NOT NULL DEFAULT 25 CONSTRAINT geofence_margin CHECK (margin_m >= 0),
    dwell_s integer NOT NULL DEFAULT 60 CONSTRAINT geofence_dwell CHECK (dwell_s >= 0),
    -- what to do while a device is outside (for later): {"cut_discharge_after_s": ...,
    -- "restore_on_return": ...}; NULL: only record the events
    action jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version bigint NOT NULL DEFAULT 1,  -- grows with every edit
    CONSTRAINT geofence_one_shape CHECK (
        (geometry IS NOT NULL AND circle_lat IS NULL AND circle_lon IS NULL
         AND circle_radius_m IS NULL)
        OR (geometry IS NULL AND circle_lat IS NOT NULL AND circle_lon IS NOT NULL
            AND circle_radius_m IS NOT NULL))
);
CREATE INDEX geofence_kind_id ON geofence (kind, id);

-- A device may have several fences; deleting either side drops the assignment.
CREATE TABLE geofence_assignment (
    geofence_id bigint NOT NULL REFERENCES geofence (id) ON DELETE CASCADE,
    device_id text NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (geofence_id, device_id)
);
CREATE INDEX geofence_assignment_device ON geofence_assignment (device_id, geofence_id);

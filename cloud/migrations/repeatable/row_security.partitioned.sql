-- The time series' row-level security, on the partitioned layout only: TimescaleDB refuses
-- row-level security on compressed hypertables, so there the API's own filter (every time-series query names a device the caller can see)
-- is the one wall. A policy on a partitioned table covers every partition, made now or
-- later, because the API's role may read time series only through the parent table (0011
-- grants it no partition).

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY[
        'bms_sample', 'position', 'vehicle_sample', 'device_event'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('DROP POLICY IF EXISTS tenant ON %I', name);
        EXECUTE format('CREATE POLICY tenant ON %I USING'
                       ' (EXISTS (SELECT 1 FROM device d WHERE d.id = device_id))', name);
    END LOOP;
END $$;

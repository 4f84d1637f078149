-- Plain PostgreSQL: native range partitioning by day. The worker creates partitions ahead
-- (and on demand for a backlog's older days) and drops those past retention.
-- LIKE ... INCLUDING ALL keeps the column list in one place (0002).

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['bms_sample', 'position', 'vehicle_sample', 'device_event'] LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', name, name || '_columns');
        EXECUTE format(
            'CREATE TABLE %I (LIKE %I INCLUDING ALL) PARTITION BY RANGE (time)',
            name, name || '_columns');
        EXECUTE format('DROP TABLE %I', name || '_columns');
    END LOOP;
END $$;

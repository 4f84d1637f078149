-- voltrent: no-transaction
-- TimescaleDB: continuous aggregates with the same names and columns as the plain path's
-- rollup tables. A continuous aggregate cannot be created inside a transaction, so each
-- statement of this file runs on its own.

CREATE MATERIALIZED VIEW bms_1m WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, device_id,
       count(*)::integer AS samples,
       min(soc_percent) AS soc_min, avg(soc_percent)::real AS soc_avg,
       max(soc_percent) AS soc_max,
       min(pack_voltage_v) AS pack_voltage_min, avg(pack_voltage_v)::real AS pack_voltage_avg,
       max(pack_voltage_v) AS pack_voltage_max,
       min(current_a) AS current_min, avg(current_a)::real AS current_avg,
       max(current_a) AS current_max,
       min(cell_min_v) AS cell_min, max(cell_max_v) AS cell_max,
       min(temperature_min_c) AS temperature_min, max(temperature_max_c) AS temperature_max
FROM bms_sample
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW bms_1h WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, device_id,
       count(*)::integer AS samples,
       min(soc_percent) AS soc_min, avg(soc_percent)::real AS soc_avg,
       max(soc_percent) AS soc_max,
       min(pack_voltage_v) AS pack_voltage_min, avg(pack_voltage_v)::real AS pack_voltage_avg,
       max(pack_voltage_v) AS pack_voltage_max,
       min(current_a) AS current_min, avg(current_a)::real AS current_avg,
       max(current_a) AS current_max,
       min(cell_min_v) AS cell_min, max(cell_max_v) AS cell_max,
       min(temperature_min_c) AS temperature_min, max(temperature_max_c) AS temperature_max
FROM bms_sample
GROUP BY 1, 2
WITH NO DATA;

SELECT add_continuous_aggregate_policy('bms_1m', start_offset => INTERVAL '3 days',
    end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');

SELECT add_continuous_aggregate_policy('bms_1h', start_offset => INTERVAL '7 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes');

-- The BMS rollups go (issue 14: they were kept up by TimescaleDB's refresh policies and read
-- by nothing). They cannot answer the history's buckets as the raw rows do, so reading them
-- instead was not an option: a bucket has min/avg/max of six quantities, and the continuous
-- aggregates keep only the lowest cell's minimum, the highest cell's maximum and the
-- temperature extremes; their averages are stored rounded to real; and a bucket that late
-- samples changed stays stale until the next refresh, with no record a query could read of
-- which ones are. Dropping them removes their timescaledb refresh policies too.
DROP MATERIALIZED VIEW bms_1h;
DROP MATERIALIZED VIEW bms_1m;

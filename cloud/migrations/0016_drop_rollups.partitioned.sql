-- The BMS rollups go (issue 14: they were kept up every 10 s and read by nothing). They
-- cannot answer the history's buckets as the raw rows do, so reading them instead was not an
-- option: a bucket has min/avg/max of six quantities, and the rollups keep only the lowest
-- cell's minimum, the highest cell's maximum and the temperature extremes (not the average
-- and maximum of the lowest cell voltage, the minimum and average of the highest, nor the
-- minimum and average of the highest temperature); their averages are stored rounded to
-- real, so an hour's average made from its minutes is not the average of its samples; their
-- hours follow the worker session's time zone where the history's buckets follow the epoch.
-- With them goes the queue of minutes ingest marked for them (rollup_pending).
DROP TABLE bms_1h, bms_1m, rollup_pending;

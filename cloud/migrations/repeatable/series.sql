-- The functions the time-series tables' generated columns compute with (cell and
-- temperature extremes). 0002 names this file, so migrate applies it before that step on a
-- fresh store. A new body applies to rows written from then on: stored columns are not
-- recomputed (that takes a numbered step).

CREATE OR REPLACE FUNCTION real_array_min(real[]) RETURNS real
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT min(x) FROM unnest($1) AS x';
CREATE OR REPLACE FUNCTION real_array_max(real[]) RETURNS real
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT max(x) FROM unnest($1) AS x';

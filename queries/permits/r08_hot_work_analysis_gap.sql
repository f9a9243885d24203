-- id: r08_hot_work_analysis_gap
-- title: Hot work started or resumed without a passing gas analysis in the 30 minutes before
-- severity: red
-- for: 0s
-- clear_after: 0s
-- basis: GB 30871-2022 5.3 (analysis no earlier than 30 min before work; re-analysis after an interruption)
-- suggested_action: Stop the hot work; analyse the gas again and restart only with a passing result.
--
-- The work began (or last resumed) at t; a passing analysis must lie in [t - 30 min, t]. An
-- analysis passes when the flammable concentration is at most 0.5 % vol for gases with a lower
-- explosive limit of 4 % or more, at most 0.2 % vol otherwise (no LEL given: the stricter).
-- Red for special and level-1 hot work, orange for level 2.
WITH active AS (
  SELECT p.*,
         CASE WHEN p.phase = 'resumed' THEN p.last_resumed_at ELSE p.last_started_at END AS began_at
  FROM permits p
  WHERE p.type = 'hot' AND p.phase IN ('started', 'resumed')
),
passing AS (
  SELECT enterprise_id, permit_id, ts
  FROM gas_analyses
  WHERE conc_vol_pct IS NOT NULL
    AND conc_vol_pct <= CASE WHEN gas_lel_vol_pct >= 4 THEN 0.5 ELSE 0.2 END
)
SELECT a.enterprise_id,
       a.permit_id AS subject,
       CASE WHEN a.hot_grade = 'l2' THEN 'orange' ELSE 'red' END AS color,
       concat(a.hot_grade, ' hot work ', a.permit_id, ' ', a.phase, ' at ', CAST(a.began_at AS VARCHAR),
              ' with no passing gas analysis in the 30 minutes before') AS message,
       a.hot_grade,
       a.phase,
       a.began_at,
       a.area_id
FROM active a
WHERE a.began_at IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM passing g
    WHERE g.enterprise_id = a.enterprise_id AND g.permit_id = a.permit_id
      AND g.ts >= a.began_at - INTERVAL '30 minutes' AND g.ts <= a.began_at
  )

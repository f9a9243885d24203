-- id: r09_gas_analysis_fail
-- title: Gas analysis of a work permit fails its limits
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: GB 30871-2022 5.3.2 (flammable limits), 6.4 (confined space: O2 19.5-21 %, toxic below the exposure limit)
-- suggested_action: Do not start, or stop, the work; ventilate or isolate, and analyse again.
--
-- The permit's latest analysis. Flammable: over 0.5 % vol (LEL >= 4 %) or 0.2 % vol (LEL < 4 %).
-- Confined space: O2 below 19.5 % or above 21 %, or toxic above its exposure limit.
-- Red while work is going on, orange before it starts.
WITH latest AS (
  SELECT g.*,
         row_number() OVER (PARTITION BY g.enterprise_id, g.permit_id ORDER BY g.ts DESC) AS rn
  FROM gas_analyses g
  CROSS JOIN clock c
  WHERE g.ts <= c.now
),
judged AS (
  SELECT l.*,
         p.type,
         p.phase,
         CASE
           WHEN l.conc_vol_pct > CASE WHEN l.gas_lel_vol_pct >= 4 THEN 0.5 ELSE 0.2 END THEN 'flammable'
           WHEN p.type = 'confined' AND (l.o2_vol_pct < 19.5 OR l.o2_vol_pct > 21.0) THEN 'oxygen'
           WHEN l.toxic_ppm > l.oel_ppm THEN 'toxic'
         END AS failure
  FROM latest l
  JOIN permits p ON p.enterprise_id = l.enterprise_id AND p.permit_id = l.permit_id
  WHERE l.rn = 1 AND p.phase NOT IN ('closed', 'cancelled')
)
SELECT enterprise_id,
       permit_id AS subject,
       CASE WHEN phase IN ('started', 'resumed') THEN 'red' ELSE 'orange' END AS color,
       CASE failure WHEN 'flammable' THEN conc_vol_pct WHEN 'oxygen' THEN o2_vol_pct ELSE toxic_ppm END AS value,
       concat(type, ' permit ', permit_id, ': gas analysis at ', point_id, ' fails (', failure, ')') AS message,
       failure,
       point_id,
       method,
       ts AS sampled_at,
       phase
FROM judged
WHERE failure IS NOT NULL

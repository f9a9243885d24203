-- id: r08_special_hot_work_continuous
-- title: Special-grade hot work without continuous gas monitoring (gap over 5 minutes)
-- severity: red
-- for: 0s
-- clear_after: 0s
-- basis: GB 30871-2022 5.3 (special hot work: continuous gas monitoring)
-- suggested_action: Stop the work until a continuous detector covers the spot again.
--
-- Checked once the work has run 5 minutes, so the first continuous sample can arrive.
SELECT p.enterprise_id,
       p.permit_id AS subject,
       concat('special hot work ', p.permit_id, ': last continuous analysis ',
              COALESCE(CAST(max(g.ts) AS VARCHAR), 'never')) AS message,
       max(g.ts) AS last_continuous_analysis,
       p.area_id
FROM permits p
CROSS JOIN clock c
LEFT JOIN gas_analyses g
       ON g.enterprise_id = p.enterprise_id AND g.permit_id = p.permit_id AND g.method = 'continuous'
      AND g.ts <= c.now
WHERE p.type = 'hot' AND p.hot_grade = 'special'
  AND p.phase IN ('started', 'resumed')
  AND p.phase_since <= c.now - INTERVAL '5 minutes'
GROUP BY p.enterprise_id, p.permit_id, p.area_id, c.now
HAVING max(g.ts) IS NULL OR max(g.ts) < c.now - INTERVAL '5 minutes'

-- id: r12_simops_hot_work_concentration
-- title: More than 3 special or level-1 hot-work jobs at once in one area
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: GB 30871-2022 5.2 (simultaneous operations); the limit of 3 is PROPOSED
-- suggested_action: Suspend jobs until at most 3 run at once; reinforce supervision.
--
-- Red when a gas detector of that area is at or above level 1.
WITH jobs AS (
  SELECT enterprise_id, area_id, count(*) AS n, string_agg(permit_id, ',' ORDER BY permit_id) AS permits
  FROM permits
  WHERE type = 'hot' AND hot_grade IN ('special', 'l1') AND phase IN ('started', 'resumed')
    AND area_id IS NOT NULL
  GROUP BY enterprise_id, area_id
  HAVING count(*) > 3
),
gas AS (
  SELECT DISTINCT i.enterprise_id, i.area_id
  FROM indicators i CROSS JOIN clock c
  WHERE i.kind IN ('flammable_gas', 'toxic_gas') AND i.last_value >= i.l1_hi AND i.offline_at > c.now
)
SELECT j.enterprise_id,
       j.area_id AS subject,
       CASE WHEN g.area_id IS NOT NULL THEN 'red' ELSE 'orange' END AS color,
       CAST(j.n AS DOUBLE) AS value,
       3.0 AS threshold,
       concat(CAST(j.n AS VARCHAR), ' special/level-1 hot-work jobs at once in area ', j.area_id) AS message,
       j.permits
FROM jobs j
LEFT JOIN gas g ON g.enterprise_id = j.enterprise_id AND g.area_id = j.area_id

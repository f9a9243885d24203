-- id: r06_alarm_bad_actor
-- title: Bad actor: one point causes more than 5 % of the enterprise's alarms over 7 days
-- severity: blue
-- for: 0s
-- clear_after: 0s
-- basis: EEMUA 191 bad-actor analysis
-- every: 1h
-- suggested_action: Put the point on the alarm rationalisation list.
--
-- Only where the enterprise raised at least 100 alarms in the 7 days, so that 5 % means
-- something; and the point must stand out: more than twice the mean count of the
-- enterprise's alarming points (with few points, every one is over 5 %).
WITH raises AS (
  SELECT e.enterprise_id, e.target_code
  FROM alarm_events e
  CROSS JOIN clock c
  WHERE e.transition = 'raise' AND e.ts > c.now - INTERVAL '7 days' AND e.ts <= c.now
),
per_point AS (
  SELECT enterprise_id, target_code, count(*) AS n FROM raises GROUP BY enterprise_id, target_code
),
per_enterprise AS (
  SELECT enterprise_id, count(*) AS total, count(DISTINCT target_code) AS points
  FROM raises GROUP BY enterprise_id
)
SELECT p.enterprise_id,
       p.target_code AS subject,
       CAST(p.n AS DOUBLE) / CAST(t.total AS DOUBLE) AS value,
       0.05 AS threshold,
       concat(p.target_code, ': ', CAST(p.n AS VARCHAR), ' of ', CAST(t.total AS VARCHAR), ' alarms in 7 days') AS message,
       p.n AS raises,
       t.total AS enterprise_raises
FROM per_point p
JOIN per_enterprise t ON t.enterprise_id = p.enterprise_id
WHERE t.total >= 100 AND p.n * 20 > t.total AND p.n * t.points > 2 * t.total

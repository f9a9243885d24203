-- id: r10_permit_expired
-- title: Special work going on past its planned end or its grade's maximum validity
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: GB 30871-2022 5.1.5 (validity: special and level-1 hot work 8 h, level-2 72 h; confined space 24 h)
-- suggested_action: Stop the work and have a new permit issued.
WITH limits AS (
  SELECT p.*,
         c.now,
         CASE
           WHEN p.type = 'hot' AND p.hot_grade IN ('special', 'l1') THEN 8
           WHEN p.type = 'hot' THEN 72
           WHEN p.type = 'confined' THEN 24
         END AS max_hours,
         COALESCE(p.issued_at, p.issued_ts, p.first_started_at) AS valid_from
  FROM permits p
  CROSS JOIN clock c
  WHERE p.phase IN ('started', 'resumed', 'suspended')
)
SELECT enterprise_id,
       permit_id AS subject,
       CAST(CAST(now AS BIGINT) - CAST(valid_from AS BIGINT) AS DOUBLE) / 3600000.0 AS value,
       CAST(max_hours AS DOUBLE) AS threshold,
       concat(type, ' permit ', permit_id, CASE WHEN now > planned_end THEN ' past its planned end'
                                              ELSE ' past its maximum validity' END) AS message,
       planned_end,
       valid_from,
       max_hours
FROM limits
WHERE now > planned_end
   OR (max_hours IS NOT NULL
       AND CAST(now AS BIGINT) - CAST(valid_from AS BIGINT) > max_hours * 3600000)

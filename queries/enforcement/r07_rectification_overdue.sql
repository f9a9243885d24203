-- id: r07_rectification_overdue
-- title: Inspection findings not rectified by their due date
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: Closed loop of targeted enforcement (DOMAIN.md (e) 6; handled like R7, on a deadline); MEM spot-check reply model
-- suggested_action: Visit again; have the enterprise report its measure, the reason for the delay and a new date, and consider a penalty.
--
-- The newest result of each inspection: findings still open past `rectify_due` (no
-- `rectified_at`, or rectified after the date is a late closure, not an open one). Red when a
-- finding is a major hidden hazard. Ends when a newer result of the inspection reports it
-- rectified.
WITH latest AS (
  SELECT *
  FROM (
    SELECT i.*, row_number() OVER (PARTITION BY i.enterprise_id, i.inspection_id ORDER BY i.ts DESC) AS newest_first
    FROM inspections i
  ) ranked
  WHERE newest_first = 1
)
SELECT l.enterprise_id,
       l.inspection_id AS subject,
       CASE WHEN l.major_hidden_findings > 0 THEN 'red' ELSE 'orange' END AS color,
       CAST((CAST(c.now AS BIGINT) - CAST(l.rectify_due AS BIGINT)) / 3600000.0 AS DOUBLE) AS value,
       0.0 AS threshold,
       concat('inspection ', l.inspection_id, ': ', CAST(l.findings AS VARCHAR), ' finding(s), ',
              CAST(l.major_hidden_findings AS VARCHAR), ' major hidden, due ',
              CAST(l.rectify_due AS VARCHAR), ', not rectified') AS message,
       l.mode,
       l.pool,
       l.findings,
       l.major_hidden_findings,
       l.rectify_due
FROM latest l
CROSS JOIN clock c
WHERE l.findings > 0
  AND l.rectify_due IS NOT NULL
  AND l.rectify_due < c.now
  AND l.rectified_at IS NULL

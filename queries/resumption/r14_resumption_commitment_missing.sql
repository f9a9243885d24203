-- id: r14_resumption_commitment_missing
-- title: No daily commitment during the first 14 days after resumption
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: MEM resumption notice: daily safety commitment during the resumption period
-- suggested_action: The enterprise must file today's commitment at once.
--
-- From 10:00 local time, as R17.
SELECT s.enterprise_id,
       s.enterprise_id AS subject,
       concat('resumed ', CAST(s.resumed_at AS VARCHAR), ', no commitment for ', CAST(c.local_date AS VARCHAR)) AS message,
       s.resumed_at,
       c.local_date
FROM enterprise_status s
CROSS JOIN clock c
WHERE s.production_state IN ('startup', 'running', 'trial')
  AND s.resumed_at IS NOT NULL
  AND s.resumed_at > c.now - INTERVAL '14 days'
  AND c.local_minute_of_day >= 600
  AND NOT EXISTS (
    SELECT 1 FROM commitments m
    WHERE m.enterprise_id = s.enterprise_id AND m.date = c.local_date
  )

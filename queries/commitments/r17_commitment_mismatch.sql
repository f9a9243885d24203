-- id: r17_commitment_mismatch
-- title: Today's commitment declares fewer special-work jobs than were started
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: MEM 2018 daily safety commitment: declared special work must match reality
-- suggested_action: The enterprise must correct its commitment; check the undeclared permits on site.
--
-- Permits started on the local date, by type (and grade for hot work), against the counts
-- of that date's latest commitment.
WITH started AS (
  SELECT t.enterprise_id,
         CASE WHEN t.type = 'hot' THEN concat('hot_', t.hot_grade) ELSE t.type END AS kind,
         count(DISTINCT t.permit_id) AS n
  FROM permit_transitions t
  CROSS JOIN clock c
  WHERE t.transition = 'started' AND t.ts >= c.local_day_start AND t.ts <= c.now
  GROUP BY 1, 2
),
declared AS (
  SELECT *
  FROM (
    SELECT m.*, row_number() OVER (PARTITION BY m.enterprise_id ORDER BY m.committed_at DESC) AS newest_first
    FROM commitments m
    CROSS JOIN clock c
    WHERE m.date = c.local_date
  ) latest
  WHERE newest_first = 1
),
declared_by_kind AS (
  SELECT enterprise_id, 'hot_special' AS kind, hot_special AS n FROM declared
  UNION ALL SELECT enterprise_id, 'hot_l1', hot_l1 FROM declared
  UNION ALL SELECT enterprise_id, 'hot_l2', hot_l2 FROM declared
  UNION ALL SELECT enterprise_id, 'confined', confined FROM declared
  UNION ALL SELECT enterprise_id, 'blind', blind FROM declared
  UNION ALL SELECT enterprise_id, 'height', height FROM declared
  UNION ALL SELECT enterprise_id, 'lift', lift FROM declared
  UNION ALL SELECT enterprise_id, 'temp_power', temp_power FROM declared
  UNION ALL SELECT enterprise_id, 'excavate', excavate FROM declared
  UNION ALL SELECT enterprise_id, 'road', road FROM declared
)
SELECT s.enterprise_id,
       s.enterprise_id AS subject,
       CAST(sum(s.n - d.n) AS DOUBLE) AS value,
       concat('undeclared special work today: ',
              string_agg(concat(s.kind, ' ', CAST(s.n AS VARCHAR), ' started / ', CAST(d.n AS VARCHAR), ' declared'),
                         ', ' ORDER BY s.kind)) AS message
FROM started s
JOIN declared_by_kind d ON d.enterprise_id = s.enterprise_id AND d.kind = s.kind
WHERE s.n > d.n
GROUP BY s.enterprise_id

-- id: r17_major_hazard_not_declared
-- title: Commitment declares no major hidden hazard while one is open
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: MEM 2018 daily safety commitment (major hidden hazards must be declared)
-- suggested_action: The enterprise must declare the open major hidden hazard and its rectification plan.
WITH latest_commitment AS (
  SELECT m.*, row_number() OVER (PARTITION BY m.enterprise_id ORDER BY m.date DESC) AS rn
  FROM commitments m
),
-- The newest result of each inspection: a later result reporting the rectification closes it.
latest_results AS (
  SELECT *
  FROM (
    SELECT i.*, row_number() OVER (PARTITION BY i.enterprise_id, i.inspection_id ORDER BY i.ts DESC) AS newest_first
    FROM inspections i
  ) ranked
  WHERE newest_first = 1
),
open_findings AS (
  SELECT enterprise_id, sum(major_hidden_findings) AS n, string_agg(inspection_id, ',' ORDER BY inspection_id) AS inspections
  FROM latest_results
  WHERE major_hidden_findings > 0 AND rectified_at IS NULL
  GROUP BY enterprise_id
)
SELECT m.enterprise_id,
       m.enterprise_id AS subject,
       CAST(f.n AS DOUBLE) AS value,
       concat('commitment of ', CAST(m.date AS VARCHAR), ' declares no major hidden hazard; ',
              CAST(f.n AS VARCHAR), ' open from inspection ', f.inspections) AS message,
       m.date AS commitment_date,
       f.inspections
FROM latest_commitment m
JOIN open_findings f ON f.enterprise_id = m.enterprise_id
WHERE m.rn = 1 AND NOT m.major_hidden_hazard

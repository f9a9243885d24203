-- id: r17_commitment_missing
-- title: No daily safety commitment by 10:00 local time
-- severity: yellow
-- for: 0s
-- clear_after: 0s
-- basis: MEM 2018 daily safety commitment announcement; Guangdong 10:00 rule
-- suggested_action: Remind the enterprise to file today's commitment; repeat offenders go on the inspection list.
--
-- Registered hazardous-chemical enterprises that are not shut down. A commitment counts for
-- the local date it names.
SELECT e.enterprise_id,
       e.enterprise_id AS subject,
       concat('no commitment for ', CAST(c.local_date AS VARCHAR), ' by 10:00') AS message,
       c.local_date
FROM enterprises e
CROSS JOIN clock c
LEFT JOIN enterprise_status s ON s.enterprise_id = e.enterprise_id
WHERE e.name IS NOT NULL
  AND (COALESCE(e.is_hazchem_producer, false) OR e.major_hazard_level IS NOT NULL)
  AND COALESCE(s.production_state, 'running') <> 'shutdown'
  AND c.local_minute_of_day >= 600
  AND NOT EXISTS (
    SELECT 1 FROM commitments m
    WHERE m.enterprise_id = e.enterprise_id AND m.date = c.local_date
  )

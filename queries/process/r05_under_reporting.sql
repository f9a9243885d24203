-- id: r05_under_reporting
-- title: Alarm condition without an enterprise alarm (under-reporting)
-- severity: orange
-- for: 90s
-- clear_after: 60s
-- basis: MEM monitoring system under-reporting (漏报) fields; cloud versus edge thresholds
-- suggested_action: Ask the enterprise why its DCS raised no alarm; check the DCS alarm configuration.
--
-- vigil's own limit check says the point is past level 1, and no raised, uncleared alarm of
-- the enterprise DCS exists for it. `for` is the default on-delay plus 60 s.
SELECT i.enterprise_id,
       i.target_code AS subject,
       CASE WHEN i.last_value >= i.l2_hi OR i.last_value <= i.l2_lo THEN 'red' ELSE 'orange' END AS color,
       i.last_value AS value,
       CASE WHEN i.last_value >= i.l1_hi THEN i.l1_hi ELSE i.l1_lo END AS threshold,
       concat(i.target_code, ' past its limit with no DCS alarm') AS message,
       i.kind,
       i.last_ts
FROM indicators i
CROSS JOIN clock c
LEFT JOIN (
  SELECT DISTINCT enterprise_id, target_code
  FROM alarms
  WHERE origin = 'enterprise_dcs' AND transition <> 'clear'
) a ON a.enterprise_id = i.enterprise_id AND a.target_code = i.target_code
WHERE i.offline_at > c.now
  AND i.last_quality <> 'bad'
  AND (i.last_value >= i.l1_hi OR i.last_value <= i.l1_lo)
  AND a.target_code IS NULL

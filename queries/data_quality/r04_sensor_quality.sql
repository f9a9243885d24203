-- id: r04_sensor_quality
-- title: Sensor data not trustworthy (over-range, flat-line, NE 107 failure, long function check)
-- severity: yellow
-- for: 0s
-- clear_after: 300s
-- basis: MEM valueQualityStatus; NAMUR NE 107 status signals
-- suggested_action: Have the instrument checked and recalibrated; until then treat its readings as unknown.
--
-- Flat-line: the value unchanged for 2 hours while the point keeps reporting and the
-- enterprise is running. Function check: CHECK_FUNCTION for over 8 hours while running.
-- Orange for gas detectors (their silence hides leaks).
WITH checked AS (
  SELECT i.*,
         c.now,
         s.production_state,
         CASE
           WHEN i.ne107 = 'failure' THEN 'ne107_failure'
           WHEN i.last_value < i.range_lo OR i.last_value > i.range_hi THEN 'over_range'
           WHEN s.production_state = 'running' AND i.ne107 = 'check_function'
                AND i.status_ts <= c.now - INTERVAL '8 hours' THEN 'check_function_8h'
           WHEN s.production_state = 'running' AND i.value_since <= c.now - INTERVAL '2 hours'
                AND i.offline_at > c.now THEN 'flat_line_2h'
         END AS problem
  FROM indicators i
  CROSS JOIN clock c
  LEFT JOIN enterprise_status s ON s.enterprise_id = i.enterprise_id
)
SELECT enterprise_id,
       target_code AS subject,
       CASE WHEN kind IN ('flammable_gas', 'toxic_gas') THEN 'orange' ELSE 'yellow' END AS color,
       last_value AS value,
       concat(kind, ' ', target_code, ': ', problem) AS message,
       problem,
       kind,
       range_lo,
       range_hi,
       ne107,
       value_since,
       production_state
FROM checked
WHERE problem IS NOT NULL

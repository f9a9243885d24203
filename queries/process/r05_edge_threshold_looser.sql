-- id: r05_edge_threshold_looser
-- title: The enterprise's alarm threshold is looser than the registered limit
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: MEM monitoring system: cloud versus edge thresholds (DOMAIN.md R5)
-- suggested_action: Have the enterprise restore the DCS alarm setpoint to the registered limit.
--
-- From the thresholds carried by the enterprise's own alarm events.
SELECT a.enterprise_id,
       a.target_code AS subject,
       CASE WHEN a.level IN ('hh', 'll') THEN 'red' ELSE 'orange' END AS color,
       a.threshold AS value,
       CASE a.level WHEN 'h' THEN i.l1_hi WHEN 'hh' THEN i.l2_hi WHEN 'l' THEN i.l1_lo ELSE i.l2_lo END AS threshold,
       concat('DCS ', a.level, ' setpoint of ', a.target_code, ' is ', CAST(a.threshold AS VARCHAR),
              ', registered ',
              CAST(CASE a.level WHEN 'h' THEN i.l1_hi WHEN 'hh' THEN i.l2_hi WHEN 'l' THEN i.l1_lo ELSE i.l2_lo END AS VARCHAR)) AS message,
       a.alarm_id,
       a.level
FROM alarms a
JOIN indicators i ON i.enterprise_id = a.enterprise_id AND i.target_code = a.target_code
WHERE a.origin = 'enterprise_dcs'
  AND ((a.level = 'h' AND a.threshold > i.l1_hi)
    OR (a.level = 'hh' AND a.threshold > i.l2_hi)
    OR (a.level = 'l' AND a.threshold < i.l1_lo)
    OR (a.level = 'll' AND a.threshold < i.l2_lo))

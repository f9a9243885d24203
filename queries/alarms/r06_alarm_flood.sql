-- id: r06_alarm_flood
-- title: Alarm flood: more than 10 raises on one console in 10 minutes
-- severity: yellow
-- for: 0s
-- clear_after: 0s
-- basis: ANSI/ISA-18.2 and EEMUA 191 alarm flood definition
-- suggested_action: Operators are overloaded: send support to the control room, find the root alarm.
--
-- A flood starts above 10 raises per console in 10 minutes and ends at the first 10 minutes
-- with fewer than 5 (hysteresis through active_warnings). Orange if it contains an HH/LL.
SELECT e.enterprise_id,
       e.console_id AS subject,
       CASE WHEN sum(CASE WHEN e.level IN ('hh', 'll') THEN 1 ELSE 0 END) > 0 THEN 'orange' ELSE 'yellow' END AS color,
       CAST(count(*) AS DOUBLE) AS value,
       10.0 AS threshold,
       concat('console ', e.console_id, ': ', CAST(count(*) AS VARCHAR), ' alarms in 10 minutes') AS message,
       count(DISTINCT e.target_code) AS points
FROM alarm_events e
CROSS JOIN clock c
LEFT JOIN active_warnings a
       ON a.rule_id = 'r06_alarm_flood' AND a.enterprise_id = e.enterprise_id AND a.subject = e.console_id
WHERE e.transition = 'raise'
  AND e.console_id IS NOT NULL
  AND e.ts > c.now - INTERVAL '10 minutes'
  AND e.ts <= c.now
GROUP BY e.enterprise_id, e.console_id
HAVING count(*) > 10 OR (max(a.id) IS NOT NULL AND count(*) >= 5)

-- id: r06_alarm_stale
-- title: Stale alarm: active for more than 24 hours
-- severity: blue
-- for: 0s
-- clear_after: 0s
-- basis: ANSI/ISA-18.2 stale alarms
-- suggested_action: Resolve the cause or shelve the alarm with a documented reason.
SELECT a.enterprise_id,
       a.target_code AS subject,
       CAST(CAST(c.now AS BIGINT) - CAST(a.raised_at AS BIGINT) AS DOUBLE) / 3600000.0 AS value,
       24.0 AS threshold,
       concat('alarm ', a.alarm_id, ' on ', a.target_code, ' active since ', CAST(a.raised_at AS VARCHAR)) AS message,
       a.alarm_id,
       a.level,
       a.raised_at
FROM alarms a
CROSS JOIN clock c
WHERE a.transition NOT IN ('clear', 'shelve')
  AND a.raised_at <= c.now - INTERVAL '24 hours'

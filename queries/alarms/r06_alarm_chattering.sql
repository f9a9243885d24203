-- id: r06_alarm_chattering
-- title: Chattering alarm: three or more raises of one point within 60 seconds
-- severity: blue
-- for: 0s
-- clear_after: 600s
-- basis: ANSI/ISA-18.2 and EEMUA 191 alarm management; MEM repeat-alarm features
-- suggested_action: Review the point's deadband and on/off delays; repair or re-tune the instrument.
--
-- One episode per point for as long as it chatters (clear_after keeps it one episode).
SELECT e.enterprise_id,
       e.target_code AS subject,
       CAST(count(*) AS DOUBLE) AS value,
       3.0 AS threshold,
       concat(e.target_code, ' raised ', CAST(count(*) AS VARCHAR), ' times in 60 s') AS message,
       count(*) AS raises,
       min(e.ts) AS first_raise,
       max(e.ts) AS last_raise
FROM alarm_events e
CROSS JOIN clock c
WHERE e.transition = 'raise'
  AND e.ts > c.now - INTERVAL '60 seconds'
  AND e.ts <= c.now
GROUP BY e.enterprise_id, e.target_code
HAVING count(*) >= 3

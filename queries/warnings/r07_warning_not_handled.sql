-- id: r07_warning_not_handled
-- title: Warning not handled in time: escalate enterprise -> county -> city -> province
-- severity: yellow
-- for: 0s
-- clear_after: 0s
-- basis: Graded push and closed-loop handling of early warnings (DOMAIN.md R7); deadlines PROPOSED
-- suggested_action: Escalate to the tier named in `tier`; the handling organisation must acknowledge and verify.
--
-- Deadline to acknowledge by colour: red 15 min, orange 30 min, yellow 2 h, blue 24 h. Past it
-- the warning goes to the county; past three times it (the county's doubled deadline) to the
-- city; a red one past seven times it to the province. Handled: any ack, verified, resolved,
-- false_alarm or maintenance feedback for the warning id. Keeps the warning's colour.
-- Reads the warnings as published (`open_warnings`: their ids are the ones feedback names, and
-- a condition that blinks within the rule's `clear_after` keeps its warning and its age).
WITH waiting AS (
  SELECT a.*,
         c.now,
         CASE a.color WHEN 'red' THEN 15 WHEN 'orange' THEN 30 WHEN 'yellow' THEN 120 ELSE 1440 END AS due_min,
         (CAST(c.now AS BIGINT) - CAST(a.first_seen AS BIGINT)) / 60000 AS age_min
  FROM open_warnings a
  CROSS JOIN clock c
  WHERE a.rule_id <> 'r07_warning_not_handled'
),
handled AS (
  SELECT DISTINCT warning_id FROM warning_feedback
  WHERE action IN ('ack', 'verified', 'resolved', 'false_alarm', 'maintenance')
)
SELECT w.enterprise_id,
       w.id AS subject,
       w.color,
       CAST(w.age_min AS DOUBLE) AS value,
       CAST(w.due_min AS DOUBLE) AS threshold,
       CASE
         WHEN w.color = 'red' AND w.age_min > 7 * w.due_min THEN 'province'
         WHEN w.age_min > 3 * w.due_min THEN 'city'
         ELSE 'county'
       END AS tier,
       concat('warning ', w.id, ' (', w.rule_id, ', ', w.color, ') unacknowledged for ',
              CAST(w.age_min AS VARCHAR), ' min') AS message,
       w.rule_id AS warning_rule,
       w.subject AS warning_subject,
       w.first_seen
FROM waiting w
LEFT JOIN handled h ON h.warning_id = w.id
WHERE h.warning_id IS NULL AND w.age_min > w.due_min

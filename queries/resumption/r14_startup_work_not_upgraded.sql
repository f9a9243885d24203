-- id: r14_startup_work_not_upgraded
-- title: Special work during start-up or trial production not upgraded
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: Tianjin start-up rules: special work during start-up is upgraded one grade (see R11)
-- suggested_action: Re-grade the permit one level up before the work goes on.
SELECT p.enterprise_id,
       p.permit_id AS subject,
       concat(p.type, ' permit ', p.permit_id, ' during ', s.production_state, ' not upgraded') AS message,
       s.production_state,
       p.type,
       p.hot_grade
FROM permits p
JOIN enterprise_status s ON s.enterprise_id = p.enterprise_id
WHERE s.production_state IN ('startup', 'trial')
  AND p.phase IN ('issued', 'started', 'resumed')
  AND NOT p.declared_grade_upgraded

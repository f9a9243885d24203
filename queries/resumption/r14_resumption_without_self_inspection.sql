-- id: r14_resumption_without_self_inspection
-- title: Resumed production without a passed self-inspection or without approval
-- severity: red
-- for: 0s
-- clear_after: 0s
-- basis: MEM notice on resumption of work and production; Tianjin "eight musts" before start-up
-- suggested_action: Stop the start-up; the enterprise must submit a passed self-inspection and obtain approval.
SELECT enterprise_id,
       enterprise_id AS subject,
       concat('enterprise in ', production_state, CASE
                WHEN self_inspection_submitted_at IS NULL THEN ' without a submitted self-inspection'
                WHEN NOT COALESCE(self_inspection_passed, false) THEN ' with a failed self-inspection'
                ELSE ' without approval to resume' END) AS message,
       production_state,
       resumed_at,
       self_inspection_submitted_at,
       self_inspection_passed,
       approved_to_resume
FROM enterprise_status
WHERE production_state IN ('startup', 'running', 'trial')
  AND resumed_at IS NOT NULL
  AND (self_inspection_submitted_at IS NULL
       OR NOT COALESCE(self_inspection_passed, false)
       OR NOT COALESCE(approved_to_resume, false))

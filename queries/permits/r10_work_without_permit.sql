-- id: r10_work_without_permit
-- title: Special work started without an issued permit
-- severity: red
-- for: 0s
-- clear_after: 0s
-- basis: GB 30871-2022 5.1.5 and general rules (no work without an issued permit)
-- suggested_action: Stop the work; the permit must be approved and issued before work starts.
SELECT enterprise_id,
       permit_id AS subject,
       concat(type, ' work ', permit_id, ' ', phase, ' with no issued permit') AS message,
       type,
       phase,
       first_started_at
FROM permits
WHERE phase IN ('started', 'resumed', 'suspended')
  AND issued_ts IS NULL
  AND issued_at IS NULL

-- id: r10_changed_without_reissue
-- title: Work went on after its permit was changed, without a reissue
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: GB 30871-2022 general rules (a change of location or scope needs a new permit)
-- suggested_action: Stop the work until the changed permit is re-approved and reissued.
SELECT enterprise_id,
       permit_id AS subject,
       concat(type, ' permit ', permit_id, ' changed at ', CAST(last_changed_at AS VARCHAR),
              ' and work went on without a reissue') AS message,
       last_changed_at,
       issued_ts
FROM permits
WHERE phase IN ('started', 'resumed')
  AND last_changed_at IS NOT NULL
  AND (issued_ts IS NULL OR issued_ts < last_changed_at)
  AND GREATEST(COALESCE(last_started_at, last_changed_at), COALESCE(last_resumed_at, last_changed_at)) > last_changed_at

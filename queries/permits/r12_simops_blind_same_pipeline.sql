-- id: r12_simops_blind_same_pipeline
-- title: Two blind-flange jobs at once on the same pipeline
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: GB 30871-2022 5.2 (simultaneous operations; one blinding job per pipeline at a time)
-- suggested_action: Suspend one of the jobs; coordinate the blinding sequence.
--
-- Active: started or resumed. Each permit of the pair is reported.
SELECT a.enterprise_id,
       a.permit_id AS subject,
       concat('blind job ', a.permit_id, ' runs with ', string_agg(b.permit_id, ', ' ORDER BY b.permit_id),
              ' on pipeline ', a.pipeline_id) AS message,
       a.pipeline_id,
       string_agg(b.permit_id, ',' ORDER BY b.permit_id) AS concurrent_permits
FROM permits a
JOIN permits b
  ON b.enterprise_id = a.enterprise_id AND b.pipeline_id = a.pipeline_id AND b.permit_id <> a.permit_id
WHERE a.type = 'blind' AND b.type = 'blind'
  AND a.phase IN ('started', 'resumed') AND b.phase IN ('started', 'resumed')
GROUP BY a.enterprise_id, a.permit_id, a.pipeline_id

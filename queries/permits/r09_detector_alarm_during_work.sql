-- id: r09_detector_alarm_during_work
-- title: A gas detector in the work area is at or above level 1 while a permit is active
-- severity: red
-- for: 0s
-- clear_after: 60s
-- basis: GB 30871-2022 5.3.2 (on-line detectors in the work area during the work)
-- suggested_action: Stop the work at once and evacuate; find the source before any restart.
SELECT p.enterprise_id,
       p.permit_id AS subject,
       max(i.last_value) AS value,
       min(i.l1_hi) AS threshold,
       concat(p.type, ' permit ', p.permit_id, ' active while ',
              string_agg(i.target_code, ', ' ORDER BY i.target_code), ' at or above level 1') AS message,
       string_agg(i.target_code, ',' ORDER BY i.target_code) AS detectors,
       p.area_id
FROM permits p
CROSS JOIN clock c
JOIN indicators i ON i.enterprise_id = p.enterprise_id AND i.area_id = p.area_id
WHERE p.phase IN ('started', 'resumed')
  AND i.kind IN ('flammable_gas', 'toxic_gas')
  AND i.offline_at > c.now
  AND i.last_value >= i.l1_hi
GROUP BY p.enterprise_id, p.permit_id, p.type, p.area_id

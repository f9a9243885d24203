-- id: r02_gas_leak_corroborated
-- title: Two or more gas detectors in one area at or above level 1 within 5 minutes
-- severity: red
-- for: 0s
-- clear_after: 120s
-- basis: GB/T 50493-2019 5.5.2; corroboration across detectors of one area (DOMAIN.md R2)
-- suggested_action: Treat as a confirmed leak: evacuate the area, isolate the source, start the emergency plan.
--
-- Subject: the area. The single-detector warnings it contains are inhibited by it (warnings stage).
SELECT w.enterprise_id,
       i.area_id AS subject,
       max(w.max_value) AS value,
       min(w.l1_hi) AS threshold,
       concat(CAST(count(*) AS VARCHAR), ' detectors at or above level 1 in area ', i.area_id, ': ',
              string_agg(w.target_code, ', ' ORDER BY w.target_code)) AS message,
       count(*) AS detectors,
       string_agg(w.target_code, ',' ORDER BY w.target_code) AS target_codes
FROM sensor_windows w
JOIN indicators i ON i.enterprise_id = w.enterprise_id AND i.target_code = w.target_code
WHERE w."window" = '5m'
  AND w.kind IN ('flammable_gas', 'toxic_gas')
  AND w.max_value >= w.l1_hi
  AND i.area_id IS NOT NULL
GROUP BY w.enterprise_id, i.area_id
HAVING count(*) >= 2

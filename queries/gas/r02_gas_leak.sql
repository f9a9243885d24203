-- id: r02_gas_leak
-- title: Flammable or toxic gas at or above an alarm setpoint
-- severity: orange
-- for: 30s
-- clear_after: 60s
-- basis: GB/T 50493-2019 5.5.2 (flammable level 1 <= 25 % LEL, level 2 <= 50 % LEL; toxic 100 % / 200 % of the exposure limit)
-- suggested_action: Evacuate and isolate the area around the detector, find and stop the leak, verify with a portable detector.
--
-- The last minute's peak against the detector's setpoints: level 1 is orange, level 2 red.
SELECT w.enterprise_id,
       w.target_code AS subject,
       CASE WHEN w.max_value >= w.l2_hi THEN 'red' ELSE 'orange' END AS color,
       w.max_value AS value,
       CASE WHEN w.max_value >= w.l2_hi THEN w.l2_hi ELSE w.l1_hi END AS threshold,
       concat(w.kind, ' detector ', w.target_code, ' at ', CAST(round(w.max_value, 1) AS VARCHAR),
              ' (', CASE WHEN w.max_value >= w.l2_hi THEN 'level 2' ELSE 'level 1' END, ')') AS message,
       w.kind,
       i.area_id,
       w.count AS readings_1m,
       w.last_ts
FROM sensor_windows w
JOIN indicators i ON i.enterprise_id = w.enterprise_id AND i.target_code = w.target_code
WHERE w."window" = '1m'
  AND w.kind IN ('flammable_gas', 'toxic_gas')
  AND w.max_value >= w.l1_hi

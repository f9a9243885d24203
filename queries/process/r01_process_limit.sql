-- id: r01_process_limit
-- title: Process value past its alarm limit (H/L, HH/LL)
-- severity: yellow
-- for: 30s
-- clear_after: 60s
-- basis: MEM two-level alarm thresholds for major hazard sources; OPC UA on/off delays and deadband
-- suggested_action: Operator to bring the value back inside its limits; check the interlock and the field instrument.
--
-- H/L is yellow; HH/LL on a major hazard source is orange; HH/LL on a level-1/2 source, or
-- held for 10 minutes (every reading of the last 15-minute window past level 2 and the window
-- reaching back 10 minutes), is red. Hysteresis: while this rule already reports a point, the
-- point must come back inside its limit by the deadband before it stops.
-- `for` is the default on-delay (30 s); per-point on_delay_s is in the evidence.
SELECT i.enterprise_id,
       i.target_code AS subject,
       CASE
         WHEN (i.last_value >= i.l2_hi OR i.last_value <= i.l2_lo)
              AND (i.hazard_level <= 2
                   OR (w.first_ts <= c.now - INTERVAL '10 minutes'
                       AND (w.min_value >= i.l2_hi OR w.max_value <= i.l2_lo)))
           THEN 'red'
         WHEN (i.last_value >= i.l2_hi OR i.last_value <= i.l2_lo) AND i.hazard_level IS NOT NULL
           THEN 'orange'
         ELSE 'yellow'
       END AS color,
       i.last_value AS value,
       CASE
         WHEN i.last_value >= i.l2_hi THEN i.l2_hi
         WHEN i.last_value <= i.l2_lo THEN i.l2_lo
         WHEN i.last_value >= i.l1_hi - i.deadband THEN i.l1_hi
         ELSE i.l1_lo
       END AS threshold,
       concat(i.kind, ' ', i.target_code, ' at ', CAST(i.last_value AS VARCHAR), ' ', i.unit,
              CASE
                WHEN i.last_value >= i.l2_hi THEN ' (HH)'
                WHEN i.last_value <= i.l2_lo THEN ' (LL)'
                WHEN i.last_value >= i.l1_hi - i.deadband THEN ' (H)'
                ELSE ' (L)'
              END) AS message,
       i.kind,
       i.hazard_id,
       i.hazard_level,
       i.on_delay_s,
       i.last_ts
FROM indicators i
CROSS JOIN clock c
LEFT JOIN sensor_windows w
       ON w.enterprise_id = i.enterprise_id AND w.target_code = i.target_code AND w."window" = '15m'
LEFT JOIN active_warnings a
       ON a.rule_id = 'r01_process_limit' AND a.enterprise_id = i.enterprise_id AND a.subject = i.target_code
WHERE i.kind IN ('level', 'temp', 'press', 'flow', 'o2', 'composition')
  AND i.offline_at > c.now
  AND i.last_quality <> 'bad'
  AND (i.last_value >= i.l1_hi - CASE WHEN a.id IS NULL THEN 0 ELSE i.deadband END
       OR i.last_value <= i.l1_lo + CASE WHEN a.id IS NULL THEN 0 ELSE i.deadband END)

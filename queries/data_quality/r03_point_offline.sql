-- id: r03_point_offline
-- title: Monitoring point offline (no reading for max(3 x expected period, 5 min), or reported offline)
-- severity: blue
-- for: 0s
-- clear_after: 0s
-- basis: MEM monitoring system online flag and offline reason; 30-day data retention
-- suggested_action: Check the gateway, the network link and the instrument; report the offline reason.
--
-- Blue; yellow once offline for more than 30 minutes on a level-1/2 major hazard source.
SELECT i.enterprise_id,
       i.target_code AS subject,
       CASE WHEN i.offline_at <= c.now - INTERVAL '30 minutes' AND i.hazard_level <= 2
            THEN 'yellow' ELSE 'blue' END AS color,
       CAST(CAST(c.now AS BIGINT) - CAST(i.offline_at AS BIGINT) AS DOUBLE) / 60000.0 AS value,
       concat(i.kind, ' ', i.target_code, ' offline since ', CAST(i.offline_at AS VARCHAR)) AS message,
       i.offline_at,
       i.last_ts,
       i.expected_period_s,
       i.status_reason,
       i.hazard_level
FROM indicators i
CROSS JOIN clock c
WHERE i.offline_at <= c.now

-- id: r03_enterprise_offline
-- title: Enterprise offline: more than half of its points offline for over 60 minutes
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: MEM monitoring system online flag and offline reason (DOMAIN.md R3)
-- suggested_action: Call the enterprise: data link or plant down? Dispatch a check if it cannot explain.
--
-- Counted over the points that have ever reported. "Offline for over 60 minutes" is per point
-- (its offline_at at least 60 minutes ago), so the share only counts points that were offline
-- for the whole hour.
SELECT i.enterprise_id,
       i.enterprise_id AS subject,
       CAST(sum(CASE WHEN i.offline_at <= c.now - INTERVAL '60 minutes' THEN 1 ELSE 0 END) AS DOUBLE)
         / CAST(count(*) AS DOUBLE) AS value,
       0.5 AS threshold,
       concat(CAST(sum(CASE WHEN i.offline_at <= c.now - INTERVAL '60 minutes' THEN 1 ELSE 0 END) AS VARCHAR),
              ' of ', CAST(count(*) AS VARCHAR), ' points offline for over 60 minutes') AS message,
       count(*) AS points
FROM indicators i
CROSS JOIN clock c
WHERE i.last_ts IS NOT NULL
GROUP BY i.enterprise_id
HAVING sum(CASE WHEN i.offline_at <= c.now - INTERVAL '60 minutes' THEN 1 ELSE 0 END) * 2 > count(*)

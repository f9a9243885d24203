-- id: r16_rush_production
-- title: Rush production: over design throughput for more than 24 hours, or overtime 1.5 times the usual
-- severity: yellow
-- for: 0s
-- clear_after: 0s
-- basis: Zhejiang 2020 resumption risk list (rushing production, 赶工抢工); thresholds PROPOSED
-- suggested_action: Bring throughput back to design; check fatigue and shift plans.
--
-- Over 100 % for 24 h: the sample in force 24 h ago and every sample since are over 100 %.
-- Overtime: the latest overtime_h_7d above 1.5 times the enterprise's average of samples
-- older than 7 days. Orange when the enterprise also has a process-limit or gas warning open.
-- Epidemic level HIGH tightens the throughput limit to 95 %.
WITH ops AS (
  SELECT o.*, c.now,
         row_number() OVER (PARTITION BY o.enterprise_id ORDER BY o.ts DESC) AS newest_first
  FROM enterprise_ops o CROSS JOIN clock c
  WHERE o.ts <= c.now
),
limit_pct AS (
  SELECT e.enterprise_id, CASE WHEN r.epidemic_level = 'high' THEN 95.0 ELSE 100.0 END AS pct
  FROM enterprises e LEFT JOIN regions r ON r.region_id = e.region_id
),
before_day AS (
  SELECT enterprise_id, throughput_pct_design,
         row_number() OVER (PARTITION BY enterprise_id ORDER BY ts DESC) AS rn
  FROM ops WHERE ts <= now - INTERVAL '24 hours'
),
within_day AS (
  SELECT enterprise_id, min(throughput_pct_design) AS lowest
  FROM ops WHERE ts > now - INTERVAL '24 hours' GROUP BY enterprise_id
),
baseline AS (
  SELECT enterprise_id, avg(overtime_h_7d) AS usual_overtime
  FROM ops WHERE ts <= now - INTERVAL '7 days' GROUP BY enterprise_id
),
judged AS (
  SELECT n.enterprise_id,
         n.throughput_pct_design,
         n.overtime_h_7d,
         b.usual_overtime,
         COALESCE(l.pct, 100.0) AS pct,
         (d.throughput_pct_design > COALESCE(l.pct, 100.0)
          AND COALESCE(w.lowest, d.throughput_pct_design) > COALESCE(l.pct, 100.0)) AS over_design_24h,
         (n.overtime_h_7d > 1.5 * b.usual_overtime) AS overtime
  FROM ops n
  LEFT JOIN before_day d ON d.enterprise_id = n.enterprise_id AND d.rn = 1
  LEFT JOIN within_day w ON w.enterprise_id = n.enterprise_id
  LEFT JOIN baseline b ON b.enterprise_id = n.enterprise_id
  LEFT JOIN limit_pct l ON l.enterprise_id = n.enterprise_id
  WHERE n.newest_first = 1
),
process_warnings AS (
  SELECT DISTINCT enterprise_id FROM active_warnings
  WHERE rule_id LIKE 'r01%' OR rule_id LIKE 'r02%'
)
SELECT j.enterprise_id,
       j.enterprise_id AS subject,
       CASE WHEN p.enterprise_id IS NOT NULL THEN 'orange' ELSE 'yellow' END AS color,
       j.throughput_pct_design AS value,
       j.pct AS threshold,
       concat('throughput ', CAST(j.throughput_pct_design AS VARCHAR), ' % of design',
              CASE WHEN COALESCE(j.over_design_24h, false) THEN ' for over 24 h' ELSE '' END,
              CASE WHEN COALESCE(j.overtime, false)
                   THEN concat(', overtime ', CAST(j.overtime_h_7d AS VARCHAR), ' h/7d (usual ',
                               CAST(round(j.usual_overtime, 1) AS VARCHAR), ')') ELSE '' END) AS message,
       COALESCE(j.over_design_24h, false) AS over_design_24h,
       COALESCE(j.overtime, false) AS overtime,
       j.overtime_h_7d,
       j.usual_overtime,
       p.enterprise_id IS NOT NULL AS with_process_warning
FROM judged j
LEFT JOIN process_warnings p ON p.enterprise_id = j.enterprise_id
WHERE COALESCE(j.over_design_24h, false) OR COALESCE(j.overtime, false)

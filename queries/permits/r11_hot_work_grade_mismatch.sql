-- id: r11_hot_work_grade_mismatch
-- title: Hot work declared at a lower grade than its place and time require
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: GB 30871-2022 5.1.1-5.1.3 (hot-work grades, upgrade on holidays and at night); Tianjin start-up upgrade
-- suggested_action: Re-grade the permit (approval at the higher level) before work goes on.
--
-- Base grade from the area: tank dike -> special; fire/explosion area or pipe rack -> level 1;
-- elsewhere level 2. Up one grade when the work starts at night (20:00-06:00 local), on a
-- rest day (Saturday, Sunday), or while the enterprise is starting up or in trial production.
-- Special grade without a video stream is also reported. Red when the required grade is special.
-- Public holidays and wind speed are not in the tables yet.
WITH graded AS (
  SELECT p.*,
         s.production_state,
         to_timestamp_millis(CAST(COALESCE(p.first_started_at, p.planned_start) AS BIGINT)
                             + c.utc_offset_minutes * 60000) AS local_start,
         CASE
           WHEN ar.is_tank_dike THEN 3
           WHEN ar.hazard_class = 'fire_explosion' OR ar.is_pipe_rack THEN 2
           ELSE 1
         END AS base_rank,
         CASE p.hot_grade WHEN 'special' THEN 3 WHEN 'l1' THEN 2 WHEN 'l2' THEN 1 END AS declared_rank
  FROM permits p
  CROSS JOIN clock c
  LEFT JOIN areas ar ON ar.enterprise_id = p.enterprise_id AND ar.area_id = p.area_id
  LEFT JOIN enterprise_status s ON s.enterprise_id = p.enterprise_id
  WHERE p.type = 'hot' AND p.phase NOT IN ('closed', 'cancelled')
),
required AS (
  SELECT g.*,
         (date_part('hour', g.local_start) >= 20 OR date_part('hour', g.local_start) < 6) AS at_night,
         date_part('dow', g.local_start) IN (0, 6) AS rest_day,
         g.production_state IN ('startup', 'trial') AS starting_up
  FROM graded g
),
ranked AS (
  SELECT r.*,
         LEAST(3, r.base_rank + CASE WHEN r.at_night OR r.rest_day OR COALESCE(r.starting_up, false)
                                     THEN 1 ELSE 0 END) AS required_rank
  FROM required r
)
SELECT enterprise_id,
       permit_id AS subject,
       CASE WHEN required_rank = 3 AND declared_rank < 3 THEN 'red' ELSE 'orange' END AS color,
       CAST(required_rank AS DOUBLE) AS value,
       CAST(declared_rank AS DOUBLE) AS threshold,
       CASE
         WHEN required_rank > declared_rank
           THEN concat('hot work ', permit_id, ' declared ', hot_grade, ' but requires ',
                       CASE required_rank WHEN 3 THEN 'special' WHEN 2 THEN 'l1' ELSE 'l2' END)
         ELSE concat('special hot work ', permit_id, ' without a video stream')
       END AS message,
       hot_grade AS declared_grade,
       CASE required_rank WHEN 3 THEN 'special' WHEN 2 THEN 'l1' ELSE 'l2' END AS required_grade,
       area_id,
       at_night,
       rest_day,
       starting_up
FROM ranked
WHERE required_rank > declared_rank
   OR (hot_grade = 'special' AND video_stream_id IS NULL)

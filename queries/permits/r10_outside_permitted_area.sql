-- id: r10_outside_permitted_area
-- title: Special work located more than 15 m outside its permitted area
-- severity: orange
-- for: 0s
-- clear_after: 0s
-- basis: GB 30871-2022 general rules (work only at the permitted location)
-- suggested_action: Stop the work; it must move back to the permitted area or get a new permit.
--
-- The distance is computed from the permit's reported position and the area polygon
-- (`permits.outside_area_m`).
SELECT enterprise_id,
       permit_id AS subject,
       outside_area_m AS value,
       15.0 AS threshold,
       concat(type, ' permit ', permit_id, ' at ', CAST(round(outside_area_m, 0) AS VARCHAR),
              ' m outside area ', area_id) AS message,
       area_id,
       lat,
       lon
FROM permits
WHERE phase IN ('started', 'resumed')
  AND outside_area_m > 15

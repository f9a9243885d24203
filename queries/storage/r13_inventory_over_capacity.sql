-- id: r13_inventory_over_capacity
-- title: Storage filled towards or beyond its approved capacity
-- severity: yellow
-- for: 1h
-- clear_after: 1h
-- basis: Over-quantity storage as a major hidden hazard (MEM hidden-hazard criteria); GB 18218 R
-- suggested_action: Stop receiving into the unit; move stock out below 80 % of the approved capacity.
--
-- Latest level of each storage unit against its approved capacity: 0.8 yellow, 0.9 orange,
-- 1.0 or above red (a major hidden hazard). Also red above the registered capacity.
-- "Sustained for 1 h" is the `for` of this rule. The live-R check is not in the tables yet.
SELECT enterprise_id,
       storage_unit_id AS subject,
       CASE
         WHEN ratio >= 1.0 OR qty_t > registered_capacity_t THEN 'red'
         WHEN ratio >= 0.9 THEN 'orange'
         ELSE 'yellow'
       END AS color,
       ratio AS value,
       CASE WHEN ratio >= 1.0 THEN 1.0 WHEN ratio >= 0.9 THEN 0.9 ELSE 0.8 END AS threshold,
       concat('storage ', storage_unit_id, ' at ', CAST(round(ratio * 100, 1) AS VARCHAR),
              ' % of approved capacity (', CAST(qty_t AS VARCHAR), ' t)') AS message,
       cas,
       qty_t,
       approved_capacity_t,
       registered_capacity_t,
       ts AS measured_at
FROM inventory
WHERE ratio >= 0.8 OR qty_t > registered_capacity_t

-- id: r16_supply_chain_imbalance
-- title: Supply-chain imbalance under high throughput
-- severity: yellow
-- for: 0s
-- clear_after: 0s
-- basis: Zhejiang 2020 resumption risk list (supply-chain imbalance); thresholds PROPOSED
-- suggested_action: Plan a controlled reduction of throughput; secure raw materials or product outlets.
--
-- Raw materials for under 2 days, or product outbound blocked, while throughput is over 90 %.
SELECT enterprise_id,
       enterprise_id AS subject,
       throughput_pct_design AS value,
       90.0 AS threshold,
       concat('throughput ', CAST(throughput_pct_design AS VARCHAR), ' % with ',
              CASE WHEN product_outbound_blocked THEN 'product outbound blocked'
                   ELSE concat(CAST(raw_material_days_cover AS VARCHAR), ' days of raw material') END) AS message,
       raw_material_days_cover,
       product_outbound_blocked,
       ops_ts
FROM enterprise_status
WHERE throughput_pct_design > 90
  AND (raw_material_days_cover < 2 OR product_outbound_blocked)

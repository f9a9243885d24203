-- id: r18_process_monitor
-- title: Process leaving its learned normal operation (PCA T² or SPE over its limit)
-- severity: yellow
-- clear_after: 30m
-- basis: Multivariate statistical process control: Hotelling's T² and the SPE (Q, Jackson–Mudholkar) of a PCA model of normal operation (`vigil learn`)
-- suggested_action: Operator to check the named indicators and the unit's operating state; report whether it is a fault, a change of operating point, or a model to retrain.
--
-- A monitored unit's samples (each indicator's latest value at every multiple of the model's
-- sample period) are scored as they complete. Three in a row with T² or the SPE over its limit
-- (at the model's confidence, 99 % by default) fire; ten in a row make it orange. The evidence
-- names the indicators contributing most to each statistic and the model's version. A sample
-- older than two periods is no evidence: a unit whose readings stopped does not keep firing
-- (R3 reports it offline). Not in DOMAIN.md's R1–R17: issue 22's learned monitoring.
SELECT m.enterprise_id,
       m.model_id AS subject,
       CASE WHEN m.over_run >= 10 THEN 'orange' ELSE 'yellow' END AS color,
       m.t2 AS value,
       m.t2_limit AS threshold,
       concat('unit ', m.unit, ' outside its normal operation for ', CAST(m.over_run AS VARCHAR),
              ' samples: T² ', CAST(round(m.t2, 1) AS VARCHAR), ' (limit ', CAST(round(m.t2_limit, 1) AS VARCHAR),
              '), SPE ', CAST(round(m.spe, 1) AS VARCHAR), ' (limit ', CAST(round(m.spe_limit, 1) AS VARCHAR),
              '); T² from ', m.t2_top, '; SPE from ', m.spe_top) AS message,
       m.t2,
       m.t2_limit,
       m.spe,
       m.spe_limit,
       m.over_run,
       m.t2_top,
       m.spe_top,
       m.model_version,
       m.sample_ts
FROM unit_monitor m
CROSS JOIN clock c
WHERE m.over_run >= 3
  AND m.stale_at > c.now

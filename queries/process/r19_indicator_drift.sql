-- id: r19_indicator_drift
-- title: Indicator leaving its learned normal level (no learned model covers it)
-- severity: yellow
-- for: 10m
-- clear_after: 10m
-- basis: Robust statistical process control on a single indicator: its distance from its learned median in robust σ (1.4826 · MAD, Hampel's identifier) and its rate of change (`vigil learn` baselines)
-- suggested_action: Operator to check the indicator and its equipment: a drifting process value, a drifting sensor, or a new operating point (relearn the baseline).
--
-- For indicators that no learned model has as a column (a unit's model watches those, R18):
-- the newest value 6 robust σ or more from the learned median, or 3 σ or more and moving
-- further away at 1 σ a minute or faster (the change of the one-minute means over up to five
-- minutes), for 10 minutes. Orange from 10 σ. Well before a level-1 alarm limit when the
-- indicator is quiet in normal operation. A value the point stopped updating is no evidence
-- (R3 reports the point offline). Not in DOMAIN.md's R1–R17: issue 22's learned monitoring.
SELECT d.enterprise_id,
       d.target_code AS subject,
       CASE WHEN abs(d.drift) >= 10 THEN 'orange' ELSE 'yellow' END AS color,
       d.value,
       d.baseline_median AS threshold,
       concat(d.target_code, ' at ', CAST(round(d.value, 3) AS VARCHAR),
              ', ', CAST(round(d.drift, 1) AS VARCHAR), ' σ from its learned median ',
              CAST(round(d.baseline_median, 3) AS VARCHAR),
              CASE WHEN d.rate IS NULL THEN ''
                   ELSE concat(', moving ', CAST(round(d.rate, 2) AS VARCHAR), ' σ/min') END) AS message,
       d.drift,
       d.rate,
       d.baseline_median,
       d.baseline_scale,
       d.baseline_version,
       d.value_ts
FROM indicator_drift d
CROSS JOIN clock c
WHERE d.model_id IS NULL
  AND d.stale_at > c.now
  AND (abs(d.drift) >= 6
       OR (abs(d.drift) >= 3 AND d.drift * d.rate > 0 AND abs(d.rate) >= 1))

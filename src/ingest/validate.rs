//! Checks on a decoded event that need nothing but the event and its key: identifiers,
//! physical plausibility, domains and consistency between fields. Time against the watermark,
//! duplicates and permit phases are checked later, in the pipeline and the state.

use crate::model::physical::{non_negative, percent};
use crate::model::*;

use super::decode::registry_enterprise;
use super::reason::{ReasonCode, Rejection};

type Check = Result<(), Rejection>;

fn fail(code: ReasonCode, detail: impl Into<String>) -> Check {
    Err(Rejection::new(code, detail))
}

fn ensure(ok: bool, code: ReasonCode, detail: impl FnOnce() -> String) -> Check {
    if ok {
        Ok(())
    } else {
        fail(code, detail())
    }
}

fn physical(result: Result<(), String>) -> Check {
    result.map_err(|detail| Rejection::new(ReasonCode::NotPhysical, detail))
}

/// An enterprise id is a 6-digit city division code and a 5-digit serial.
pub fn is_enterprise_id(id: &str) -> bool {
    id.len() == 11 && id.bytes().all(|b| b.is_ascii_digit())
}

fn enterprise_id(id: &str) -> Check {
    ensure(is_enterprise_id(id), ReasonCode::BadIdentifier, || {
        format!("enterprise_id {id:?} is not 11 digits (city code + serial)")
    })
}

fn non_empty(value: &str, field: &str) -> Check {
    ensure(!value.trim().is_empty(), ReasonCode::BadIdentifier, || {
        format!("{field} is empty")
    })
}

/// The record's key must be the event's enterprise id (the region id for `region.epidemic`).
pub fn check_key(event: &Event<'_>, key: Option<&[u8]>) -> Check {
    let Some(key) = key else {
        return fail(ReasonCode::MissingKey, "the record has no key");
    };
    let key = std::str::from_utf8(key)
        .map_err(|_| Rejection::new(ReasonCode::NotUtf8, "the key is not UTF-8"))?;
    let expected = match event {
        Event::Registry(change) => match registry_enterprise(change) {
            Some(id) => id,
            None => return enterprise_id(key),
        },
        other => other.key_id().unwrap_or_default(),
    };
    ensure(key == expected, ReasonCode::KeyMismatch, || {
        format!("key {key:?} differs from the event's id {expected:?}")
    })
}

/// Field-level checks of one event.
pub fn check_fields(event: &Event<'_>) -> Check {
    match event {
        Event::Registry(change) => check_registry(change),
        Event::SensorReading(r) => {
            enterprise_id(&r.enterprise_id)?;
            non_empty(&r.target_code, "target_code")
        }
        Event::SensorStatus(s) => check_status(s),
        Event::AlarmLifecycle(a) => {
            enterprise_id(&a.enterprise_id)?;
            non_empty(&a.alarm_id, "alarm_id")?;
            non_empty(&a.target_code, "target_code")
        }
        Event::PermitEvent(p) => check_permit(p),
        Event::GasAnalysis(g) => check_analysis(g),
        Event::CommitmentDaily(c) => check_commitment(c),
        Event::EnterpriseStatus(s) => enterprise_id(&s.enterprise_id),
        Event::EnterpriseOps(o) => check_ops(o),
        Event::StaffingSnapshot(s) => {
            enterprise_id(&s.enterprise_id)?;
            physical(non_negative(
                s.headcount_vs_normal_pct,
                "headcount_vs_normal_pct",
            ))
        }
        Event::TrainingRecord(t) => {
            enterprise_id(&t.enterprise_id)?;
            non_empty(&t.person_id, "person_id")
        }
        Event::InventoryLevel(i) => check_inventory(i),
        Event::RegionEpidemic(r) => non_empty(&r.region_id, "region_id"),
        Event::InspectionResult(i) => {
            enterprise_id(&i.enterprise_id)?;
            non_empty(&i.inspection_id, "inspection_id")
        }
        Event::WarningFeedback(f) => {
            enterprise_id(&f.enterprise_id)?;
            non_empty(&f.warning_id, "warning_id")
        }
    }
}

fn check_status(s: &SensorStatus) -> Check {
    enterprise_id(&s.enterprise_id)?;
    ensure(
        s.target_code.is_some() || s.gateway_code.is_some(),
        ReasonCode::MissingField,
        || "missing field `target_code` or `gateway_code`".into(),
    )
}

fn check_permit(p: &PermitEvent) -> Check {
    enterprise_id(&p.enterprise_id)?;
    non_empty(&p.permit_id, "permit_id")?;
    if p.permit_type == PermitType::Hot && p.hot_grade.is_none() {
        return fail(
            ReasonCode::MissingField,
            "missing field `hot_grade` (required for hot work)",
        );
    }
    check_position(p.lat, p.lon)?;
    if let Some(h) = p.height_m {
        physical(non_negative(h, "height_m"))?;
    }
    if let (Some(start), Some(end)) = (p.planned_start, p.planned_end) {
        ensure(end >= start, ReasonCode::InconsistentFields, || {
            format!("planned_end {end} is before planned_start {start}")
        })?;
    }
    Ok(())
}

fn check_position(lat: Option<f64>, lon: Option<f64>) -> Check {
    if let Some(lat) = lat {
        ensure(
            (-90.0..=90.0).contains(&lat),
            ReasonCode::NotPhysical,
            || format!("latitude {lat}"),
        )?;
    }
    if let Some(lon) = lon {
        ensure(
            (-180.0..=180.0).contains(&lon),
            ReasonCode::NotPhysical,
            || format!("longitude {lon}"),
        )?;
    }
    Ok(())
}

fn check_analysis(g: &GasAnalysis) -> Check {
    enterprise_id(&g.enterprise_id)?;
    non_empty(&g.permit_id, "permit_id")?;
    non_empty(&g.point_id, "point_id")?;
    if let Some(lel) = g.gas_lel_vol_pct {
        ensure(lel > 0.0 && lel <= 100.0, ReasonCode::NotPhysical, || {
            format!("gas_lel_vol_pct {lel} is outside 0..100 % vol")
        })?;
    }
    for (value, what) in [
        (g.conc_vol_pct, "conc_vol_pct"),
        (g.o2_vol_pct, "o2_vol_pct"),
    ] {
        if let Some(v) = value {
            physical(percent(v, what))?;
        }
    }
    for (value, what) in [(g.conc_pct_lel, "conc_pct_lel"), (g.toxic_ppm, "toxic_ppm")] {
        if let Some(v) = value {
            physical(non_negative(v, what))?;
        }
    }
    if let Some(oel) = g.oel_ppm {
        ensure(oel > 0.0, ReasonCode::NotPhysical, || {
            format!("oel_ppm {oel} is not positive")
        })?;
    }
    Ok(())
}

fn check_commitment(c: &CommitmentDaily) -> Check {
    enterprise_id(&c.enterprise_id)?;
    ensure(
        (1..=4).contains(&c.self_risk_level),
        ReasonCode::OutOfDomain,
        || format!("self_risk_level {} is not 1..4", c.self_risk_level),
    )?;
    ensure(
        u64::from(c.units_running) + u64::from(c.units_stopped) <= u64::from(c.units_total),
        ReasonCode::InconsistentFields,
        || {
            format!(
                "units_running {} + units_stopped {} exceed units_total {}",
                c.units_running, c.units_stopped, c.units_total
            )
        },
    )
}

fn check_ops(o: &EnterpriseOps) -> Check {
    enterprise_id(&o.enterprise_id)?;
    physical(non_negative(
        o.throughput_pct_design,
        "throughput_pct_design",
    ))?;
    physical(non_negative(
        o.raw_material_days_cover,
        "raw_material_days_cover",
    ))?;
    ensure(
        (0.0..=168.0).contains(&o.overtime_h_7d),
        ReasonCode::NotPhysical,
        || {
            format!(
                "overtime_h_7d {} is outside the 168 hours of a week",
                o.overtime_h_7d
            )
        },
    )
}

fn check_inventory(i: &InventoryLevel) -> Check {
    enterprise_id(&i.enterprise_id)?;
    non_empty(&i.storage_unit_id, "storage_unit_id")?;
    physical(non_negative(i.qty_t, "qty_t"))?;
    ensure(i.approved_capacity_t > 0.0, ReasonCode::NotPhysical, || {
        format!(
            "approved_capacity_t {} is not positive",
            i.approved_capacity_t
        )
    })
}

fn check_registry(change: &RegistryChange) -> Check {
    match change {
        RegistryChange::Enterprise(e) => {
            enterprise_id(&e.enterprise_id)?;
            non_empty(&e.region_id, "region_id")?;
            ensure(
                (0.0..=100.0).contains(&e.static_diag_score),
                ReasonCode::OutOfDomain,
                || format!("static_diag_score {} is not 0..100", e.static_diag_score),
            )?;
            check_position(e.lat, e.lon)
        }
        RegistryChange::HazardUnit(h) => check_hazard_unit(h),
        RegistryChange::Equipment(e) => enterprise_id(&e.enterprise_id),
        RegistryChange::Indicator(i) => check_indicator(i),
        RegistryChange::Area(a) => enterprise_id(&a.enterprise_id),
        RegistryChange::MonitorModel(m) => {
            enterprise_id(&m.enterprise_id)?;
            m.validate()
                .map_err(|e| Rejection::new(ReasonCode::InconsistentFields, e.to_string()))
        }
        RegistryChange::IndicatorBaseline(b) => {
            enterprise_id(&b.enterprise_id)?;
            b.validate()
                .map_err(|e| Rejection::new(ReasonCode::InconsistentFields, e.to_string()))
        }
        RegistryChange::Deleted { .. } => Ok(()),
    }
}

fn check_hazard_unit(h: &HazardUnit) -> Check {
    enterprise_id(&h.enterprise_id)?;
    ensure((1..=4).contains(&h.level), ReasonCode::OutOfDomain, || {
        format!("hazard level {} is not 1..4", h.level)
    })?;
    for s in &h.substances {
        ensure(
            s.q_crit_t > 0.0 && s.beta > 0.0,
            ReasonCode::NotPhysical,
            || format!("substance {}: Q_crit_t and beta must be positive", s.cas),
        )?;
        physical(non_negative(s.q_design_t, "q_design_t"))?;
    }
    Ok(())
}

fn check_indicator(i: &Indicator) -> Check {
    enterprise_id(&i.enterprise_id)?;
    ensure(
        i.range_lo < i.range_hi,
        ReasonCode::InconsistentFields,
        || {
            format!(
                "range_lo {} is not below range_hi {}",
                i.range_lo, i.range_hi
            )
        },
    )?;
    ordered(i.l1_hi, i.l2_hi, "l1_hi", "l2_hi")?;
    ordered(i.l2_lo, i.l1_lo, "l2_lo", "l1_lo")?;
    ensure(i.expected_period_s > 0, ReasonCode::OutOfDomain, || {
        "expected_period_s must be positive".into()
    })?;
    if let Some(d) = i.deadband {
        physical(non_negative(d, "deadband"))?;
    }
    Ok(())
}

fn ordered(low: Option<f64>, high: Option<f64>, low_name: &str, high_name: &str) -> Check {
    match (low, high) {
        (Some(l), Some(h)) if l > h => fail(
            ReasonCode::InconsistentFields,
            format!("{low_name} {l} is above {high_name} {h}"),
        ),
        _ => Ok(()),
    }
}

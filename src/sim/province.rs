//! The simulated province: cities → counties → chemical parks → enterprises. Each enterprise
//! has a storage major hazard unit graded by GB 18218 (R from its substance, α and β), the
//! tank and gas detectors as equipment, a tank-dike area, and indicators whose alarm limits
//! follow the standards (GB/T 50493-2019 §5.5.2 for gas; the Tennessee Eastman plant's
//! constraints for reactor pressure and temperature).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::model::grading::{alpha_for_population, level_for_r, r_value};
use crate::model::{
    Area, Equipment, EquipmentType, HazardClass, HazardKind, HazardUnit, Indicator, IndicatorKind,
    Substance,
};

use super::SimRecord;

/// Zhejiang counties (6-digit division codes) and their approximate centres.
const COUNTIES: [(&str, &str, f64, f64); 8] = [
    ("330102", "330100", 30.25, 120.17),
    ("330110", "330100", 30.42, 120.30),
    ("330206", "330200", 29.95, 121.85),
    ("330211", "330200", 29.98, 121.72),
    ("330302", "330300", 28.02, 120.65),
    ("330402", "330400", 30.75, 120.76),
    ("330602", "330600", 30.00, 120.58),
    ("330604", "330600", 30.04, 120.87),
];

/// One kind of measured point and its standard limits.
struct PointTemplate {
    kind: IndicatorKind,
    code: &'static str,
    unit: &'static str,
    range: (f64, f64),
    l1_hi: Option<f64>,
    l2_hi: Option<f64>,
    l1_lo: Option<f64>,
    period_s: u32,
    /// Normal operating value (mean) and noise (standard deviation, as uniform half-width).
    normal: (f64, f64),
}

const TEMPLATES: [PointTemplate; 6] = [
    PointTemplate {
        kind: IndicatorKind::Level,
        code: "LT",
        unit: "%",
        range: (0.0, 100.0),
        l1_hi: Some(85.0),
        l2_hi: Some(90.0),
        l1_lo: Some(10.0),
        period_s: 60,
        normal: (55.0, 2.0),
    },
    PointTemplate {
        kind: IndicatorKind::Temp,
        code: "TT",
        unit: "°C",
        range: (0.0, 200.0),
        l1_hi: Some(150.0),
        l2_hi: Some(175.0),
        l1_lo: None,
        period_s: 30,
        normal: (120.4, 0.8),
    },
    PointTemplate {
        kind: IndicatorKind::Press,
        code: "PT",
        unit: "kPa",
        range: (0.0, 4000.0),
        l1_hi: Some(2895.0),
        l2_hi: Some(3000.0),
        l1_lo: None,
        period_s: 30,
        normal: (2705.0, 8.0),
    },
    PointTemplate {
        kind: IndicatorKind::FlammableGas,
        code: "AT",
        unit: "%LEL",
        range: (0.0, 100.0),
        l1_hi: Some(25.0),
        l2_hi: Some(50.0),
        l1_lo: None,
        period_s: 10,
        normal: (1.0, 1.0),
    },
    PointTemplate {
        kind: IndicatorKind::ToxicGas,
        code: "HS",
        unit: "ppm",
        range: (0.0, 100.0),
        l1_hi: Some(10.0),
        l2_hi: Some(20.0),
        l1_lo: None,
        period_s: 10,
        normal: (0.5, 0.5),
    },
    PointTemplate {
        kind: IndicatorKind::O2,
        code: "OX",
        unit: "%vol",
        range: (0.0, 25.0),
        l1_hi: Some(23.5),
        l2_hi: None,
        l1_lo: Some(19.5),
        period_s: 10,
        normal: (20.9, 0.1),
    },
];

/// Substances a storage unit may hold: name, CAS, GHS class, critical quantity Q (t) and β
/// (GB 18218-2018 Table 1 and the β rules of DOMAIN.md A3).
const SUBSTANCES: [(&str, &str, &str, f64, f64); 6] = [
    ("liquid ammonia", "7664-41-7", "toxic gas", 10.0, 2.0),
    ("chlorine", "7782-50-5", "toxic gas", 5.0, 4.0),
    (
        "liquefied petroleum gas",
        "68476-85-7",
        "W2 flammable gas",
        50.0,
        1.5,
    ),
    ("methanol", "67-56-1", "flammable liquid", 500.0, 1.0),
    ("benzene", "71-43-2", "flammable liquid", 50.0, 1.0),
    ("toluene", "108-88-3", "flammable liquid", 500.0, 1.0),
];

#[derive(Clone, Debug)]
pub struct SimEnterprise {
    pub enterprise_id: String,
    pub name: String,
    pub region_id: String,
    pub city_id: String,
    pub park_id: String,
    pub hazard: HazardUnit,
    /// The tank's approved capacity (t): its design holding plus 25 %.
    pub approved_capacity_t: f64,
    pub equipment: Vec<Equipment>,
    pub area: Area,
    /// The process area (fire/explosion, not a dike) where routine hot work is done.
    pub work_area: Area,
    pub lat: f64,
    pub lon: f64,
    pub static_diag_score: f64,
    /// MEM 2018 direct-red conditions (a red enterprise whatever its score).
    pub direct_red_flags: Vec<String>,
    pub indicators: Vec<Indicator>,
    /// Normal value and noise of each indicator, in the same order.
    pub normals: Vec<(f64, f64)>,
}

impl SimEnterprise {
    /// The storage tank of the hazard unit (the storage unit of `inventory.level`).
    pub fn tank_id(&self) -> String {
        format!("{}-T01", self.enterprise_id)
    }

    /// The one control-room console all its points report to.
    pub fn console_id(&self) -> String {
        console_of(&self.enterprise_id)
    }
}

fn console_of(enterprise_id: &str) -> String {
    format!("{enterprise_id}-C1")
}

#[derive(Clone, Debug)]
pub struct Province {
    pub enterprises: Vec<SimEnterprise>,
}

impl Province {
    /// `enterprises` enterprises with `points_per_kind` indicators of each of the six kinds.
    pub fn generate(seed: u64, enterprises: usize, points_per_kind: usize) -> Province {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let enterprises = (0..enterprises)
            .map(|i| {
                // Plant details from their own stream, so adding one never moves the others.
                let mut plant_rng = ChaCha8Rng::seed_from_u64(seed ^ (0x9e37 + i as u64) << 8);
                enterprise(&mut rng, &mut plant_rng, i, points_per_kind)
            })
            .collect();
        Province { enterprises }
    }

    /// The registry records describing the province (enterprises, then their indicators).
    pub fn registry_records(&self) -> Vec<SimRecord> {
        let mut records = Vec::new();
        for e in &self.enterprises {
            records.push(SimRecord {
                topic: "registry",
                key: e.enterprise_id.clone(),
                value: json!({
                    "entity": "enterprise", "id": e.enterprise_id,
                    "data": {
                        "enterprise_id": e.enterprise_id, "name": e.name, "region_id": e.region_id,
                        "city_id": e.city_id, "province_id": "330000", "park_id": e.park_id,
                        "industry": "chemical", "is_hazchem_producer": true,
                        "registered_capacity_t": {
                            e.tank_id(): (e.approved_capacity_t * 1.1 * 10.0).round() / 10.0
                        },
                        "static_diag_score": e.static_diag_score, "lat": e.lat, "lon": e.lon,
                        "direct_red_flags": e.direct_red_flags,
                    }
                }),
            });
            let key = || e.enterprise_id.clone();
            let entity = |kind: &str, id: &str, data: serde_json::Value| SimRecord {
                topic: "registry",
                key: key(),
                value: json!({"entity": kind, "id": id, "data": data}),
            };
            records.push(entity("hazard_unit", &e.hazard.hazard_id, json!(e.hazard)));
            for equipment in &e.equipment {
                records.push(entity("equipment", &equipment.equip_id, json!(equipment)));
            }
            records.push(entity("area", &e.area.area_id, json!(e.area)));
            records.push(entity("area", &e.work_area.area_id, json!(e.work_area)));
            for indicator in &e.indicators {
                records.push(SimRecord {
                    topic: "registry",
                    key: e.enterprise_id.clone(),
                    value: json!({"entity": "indicator", "id": indicator.target_code, "data": indicator}),
                });
            }
        }
        records
    }

    pub fn indicator_count(&self) -> usize {
        self.enterprises.iter().map(|e| e.indicators.len()).sum()
    }
}

fn enterprise(
    rng: &mut ChaCha8Rng,
    plant_rng: &mut ChaCha8Rng,
    index: usize,
    points_per_kind: usize,
) -> SimEnterprise {
    let (region, city, lat, lon) = COUNTIES[index % COUNTIES.len()];
    let serial = index / COUNTIES.len() + 1;
    let enterprise_id = format!("{region}{serial:05}");
    let tank = format!("{enterprise_id}-T01");
    let hazard = hazard_unit(plant_rng, &enterprise_id);
    let mut equipment = vec![Equipment {
        equip_id: tank.clone(),
        enterprise_id: enterprise_id.clone(),
        hazard_id: Some(hazard.hazard_id.clone()),
        equip_type: EquipmentType::Tank,
        medium_cas: hazard.substances.iter().map(|s| s.cas.clone()).collect(),
        in_service: true,
    }];
    let area_id = format!("{enterprise_id}-A01");
    let mut indicators = Vec::new();
    let mut normals = Vec::new();
    for template in &TEMPLATES {
        for n in 0..points_per_kind {
            let mut point = indicator(&enterprise_id, template, n);
            if is_gas(template.kind) {
                // A detector of its own, in the tank dike.
                let detector = format!("{enterprise_id}-GD{}{:03}", template.code, n + 1);
                equipment.push(Equipment {
                    equip_id: detector.clone(),
                    enterprise_id: enterprise_id.clone(),
                    hazard_id: Some(hazard.hazard_id.clone()),
                    equip_type: EquipmentType::GasDetector,
                    medium_cas: Vec::new(),
                    in_service: true,
                });
                point.equip_id = Some(detector);
                point.area_id = Some(area_id.clone());
            } else {
                point.equip_id = Some(tank.clone());
            }
            point.hazard_id = Some(hazard.hazard_id.clone());
            indicators.push(point);
            normals.push(template.normal);
        }
    }
    let (lat, lon) = (
        lat + rng.random_range(-0.08..0.08),
        lon + rng.random_range(-0.08..0.08),
    );
    SimEnterprise {
        name: format!("Simulated Chemical Co. {enterprise_id}"),
        region_id: region.to_owned(),
        city_id: city.to_owned(),
        park_id: format!("{region}-P{}", serial % 2 + 1),
        area: tank_dike(&enterprise_id, area_id, lat, lon),
        work_area: process_area(&enterprise_id, lat, lon),
        approved_capacity_t: (hazard.substances[0].q_design_t * 12.5).round() / 10.0,
        hazard,
        equipment,
        lat,
        lon,
        // A fifth with weak safety management (MEM 2018 grading below 60), and a few with a
        // flag that makes them red outright.
        static_diag_score: if rng.random_bool(0.2) {
            rng.random_range(30.0..60.0_f64).round()
        } else {
            rng.random_range(60.0..98.0_f64).round()
        },
        direct_red_flags: if rng.random_bool(0.03) {
            vec!["major_hidden_hazard_unrectified".to_owned()]
        } else {
            Vec::new()
        },
        enterprise_id,
        indicators,
        normals,
    }
}

fn is_gas(kind: IndicatorKind) -> bool {
    matches!(
        kind,
        IndicatorKind::FlammableGas | IndicatorKind::ToxicGas | IndicatorKind::O2
    )
}

/// A storage unit holding 1 to 20 times the critical quantity of one substance, graded by
/// GB 18218 from its R value.
fn hazard_unit(rng: &mut ChaCha8Rng, enterprise_id: &str) -> HazardUnit {
    let (name, cas, ghs, q_crit, beta) = SUBSTANCES[rng.random_range(0..SUBSTANCES.len())];
    let held = (q_crit * rng.random_range(1.0..20.0_f64) * 10.0).round() / 10.0;
    let substances = vec![Substance {
        cas: cas.into(),
        name: name.into(),
        ghs_class: Some(ghs.into()),
        q_design_t: held,
        q_crit_t: q_crit,
        beta,
    }];
    let pop_500m = rng.random_range(0..150);
    let alpha = alpha_for_population(pop_500m);
    let r = r_value(alpha, &substances);
    HazardUnit {
        hazard_id: format!("{enterprise_id}-HZ1"),
        enterprise_id: enterprise_id.into(),
        kind: HazardKind::Storage,
        level: level_for_r(r),
        r_registered: Some((r * 100.0).round() / 100.0),
        alpha: Some(alpha),
        pop_500m: Some(pop_500m),
        substances,
    }
}

/// A square of about 100 m around the enterprise's point.
fn tank_dike(enterprise_id: &str, area_id: String, lat: f64, lon: f64) -> Area {
    let d = 0.0005;
    Area {
        area_id,
        enterprise_id: enterprise_id.into(),
        hazard_class: HazardClass::FireExplosion,
        polygon: vec![
            [lon - d, lat - d],
            [lon + d, lat - d],
            [lon + d, lat + d],
            [lon - d, lat + d],
        ],
        is_tank_dike: true,
        is_pipe_rack: false,
    }
}

/// The process area next to the tank dike: fire and explosion hazard, level-1 hot work.
fn process_area(enterprise_id: &str, lat: f64, lon: f64) -> Area {
    let mut area = tank_dike(
        enterprise_id,
        format!("{enterprise_id}-A02"),
        lat,
        lon + 0.0015,
    );
    area.is_tank_dike = false;
    area
}

fn indicator(enterprise_id: &str, t: &PointTemplate, n: usize) -> Indicator {
    Indicator {
        target_code: format!("{enterprise_id}-{}{:03}", t.code, n + 1),
        enterprise_id: enterprise_id.to_owned(),
        equip_id: Some(format!("{enterprise_id}-EQ{:03}", n + 1)),
        kind: t.kind,
        unit: t.unit.to_owned(),
        range_lo: t.range.0,
        range_hi: t.range.1,
        l1_hi: t.l1_hi,
        l2_hi: t.l2_hi,
        l1_lo: t.l1_lo,
        l2_lo: None,
        deadband: None,
        on_delay_s: 30,
        off_delay_s: 60,
        expected_period_s: t.period_s,
        console_id: Some(console_of(enterprise_id)),
        priority: None,
        hazard_id: None,
        area_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::grading::s_value;

    #[test]
    fn every_storage_unit_is_a_major_hazard_graded_by_its_r_value() {
        let province = Province::generate(42, 300, 1);
        let mut levels = std::collections::BTreeSet::new();
        for e in &province.enterprises {
            let h = &e.hazard;
            assert!(s_value(&h.substances) >= 1.0, "{h:?}");
            let r = r_value(h.alpha.unwrap(), &h.substances);
            assert_eq!(h.level, level_for_r(r));
            levels.insert(h.level);
            assert!(e
                .indicators
                .iter()
                .all(|i| i.hazard_id.as_ref() == Some(&h.hazard_id)));
            assert_eq!(e.area.polygon.len(), 4);
        }
        assert_eq!(levels.len(), 4, "all four levels occur: {levels:?}");
    }
}

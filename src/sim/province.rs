//! The simulated province: cities → counties → enterprises, each with indicators whose alarm
//! limits follow the standards (GB/T 50493-2019 §5.5.2 for gas; the Tennessee Eastman plant's
//! constraints for reactor pressure and temperature).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::model::{Indicator, IndicatorKind};

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

#[derive(Clone, Debug)]
pub struct SimEnterprise {
    pub enterprise_id: String,
    pub name: String,
    pub region_id: String,
    pub city_id: String,
    pub lat: f64,
    pub lon: f64,
    pub static_diag_score: f64,
    pub indicators: Vec<Indicator>,
    /// Normal value and noise of each indicator, in the same order.
    pub normals: Vec<(f64, f64)>,
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
            .map(|i| enterprise(&mut rng, i, points_per_kind))
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
                        "city_id": e.city_id, "province_id": "330000", "is_hazchem_producer": true,
                        "static_diag_score": e.static_diag_score, "lat": e.lat, "lon": e.lon,
                    }
                }),
            });
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

fn enterprise(rng: &mut ChaCha8Rng, index: usize, points_per_kind: usize) -> SimEnterprise {
    let (region, city, lat, lon) = COUNTIES[index % COUNTIES.len()];
    let serial = index / COUNTIES.len() + 1;
    let enterprise_id = format!("{region}{serial:05}");
    let mut indicators = Vec::new();
    let mut normals = Vec::new();
    for template in &TEMPLATES {
        for n in 0..points_per_kind {
            indicators.push(indicator(&enterprise_id, template, n));
            normals.push(template.normal);
        }
    }
    SimEnterprise {
        name: format!("Simulated Chemical Co. {enterprise_id}"),
        region_id: region.to_owned(),
        city_id: city.to_owned(),
        lat: lat + rng.random_range(-0.08..0.08),
        lon: lon + rng.random_range(-0.08..0.08),
        static_diag_score: rng.random_range(55.0..98.0_f64).round(),
        enterprise_id,
        indicators,
        normals,
    }
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
        console_id: Some(format!("{enterprise_id}-C1")),
        priority: None,
        hazard_id: None,
        area_id: None,
    }
}

//! The four-colour map at `/`: the page and its script and style, embedded in the binary (no
//! CDN: it works offline), and `GET /api/map`, the county outlines with their control index.
//! An outline is the convex hull of the county's enterprises, padded: the registry carries no
//! administrative boundaries.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use geo::{ConvexHull, MultiPoint, Point};
use serde::Serialize;

use crate::rules::Color;

use super::state::AppState;

const PAGE: &str = include_str!("assets/map.html");
const SCRIPT: &str = include_str!("assets/map.js");
const STYLE: &str = include_str!("assets/map.css");

/// Degrees around each enterprise, so a county of one enterprise is still an area.
const PAD_DEG: f64 = 0.02;

pub async fn page() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE)
}

pub async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
}

pub async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

#[derive(Serialize)]
pub struct RegionShape {
    pub region_id: String,
    pub city_id: String,
    pub cpi: f64,
    pub color: Color,
    pub enterprises: u32,
    /// [lon, lat] corners, closed.
    pub polygon: Vec<[f64; 2]>,
    /// Where its label goes: the top-left corner of the outline.
    pub label_at: [f64; 2],
}

#[derive(Serialize)]
pub struct MapShapes {
    pub regions: Vec<RegionShape>,
}

pub async fn shapes(State(app): State<AppState>) -> impl IntoResponse {
    let (counties, _) = app.risk.regions();
    let enterprises = app.risk.enterprises();
    let regions = counties
        .into_iter()
        .filter_map(|county| {
            let points: Vec<Point> = enterprises
                .iter()
                .filter(|e| e.risk.region_id == county.region_id)
                .filter_map(|e| Some((e.risk.lon?, e.risk.lat?)))
                .flat_map(|(lon, lat)| {
                    [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
                        .map(|(dx, dy)| Point::new(lon + dx * PAD_DEG, lat + dy * PAD_DEG))
                })
                .collect();
            let hull = MultiPoint::from(points).convex_hull();
            let polygon: Vec<[f64; 2]> = hull.exterior().coords().map(|c| [c.x, c.y]).collect();
            let label_at = polygon
                .iter()
                .fold([f64::INFINITY, f64::NEG_INFINITY], |acc, p| {
                    [acc[0].min(p[0]), acc[1].max(p[1])]
                });
            (polygon.len() >= 4).then_some(RegionShape {
                region_id: county.region_id,
                city_id: county.city_id,
                cpi: county.cpi,
                color: county.color,
                enterprises: county.enterprises,
                polygon,
                label_at,
            })
        })
        .collect();
    Json(MapShapes { regions })
}

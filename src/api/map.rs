//! The four-colour map at `/`: the page, its script and style, and the map libraries it uses
//! (Leaflet, Leaflet.markercluster, d3-delaunay: `assets/vendor`, with their licences), all
//! embedded in the binary, so it works offline; and `GET /api/map`, the counties with their
//! control index and, when `map.boundaries` names a file, their outlines. Without one the
//! page draws each county as the part of the plane nearer its enterprises than any other's.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::rules::Color;

use super::state::AppState;

const PAGE: &str = include_str!("assets/map.html");
const SCRIPT: &str = include_str!("assets/map.js");
const STYLE: &str = include_str!("assets/map.css");

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The vendored files, by the name the page asks for.
const VENDOR: &[(&str, &str, &str)] = &[
    ("leaflet.js", JS, include_str!("assets/vendor/leaflet.js")),
    (
        "leaflet.css",
        CSS,
        include_str!("assets/vendor/leaflet.css"),
    ),
    (
        "leaflet.markercluster.js",
        JS,
        include_str!("assets/vendor/leaflet.markercluster.js"),
    ),
    (
        "MarkerCluster.css",
        CSS,
        include_str!("assets/vendor/MarkerCluster.css"),
    ),
    (
        "d3-delaunay.min.js",
        JS,
        include_str!("assets/vendor/d3-delaunay.min.js"),
    ),
    (
        "LICENSES.txt",
        "text/plain; charset=utf-8",
        include_str!("assets/vendor/LICENSES.txt"),
    ),
];

pub async fn page() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE)
}

pub async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, JS)], SCRIPT)
}

pub async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CSS)], STYLE)
}

/// A vendored library: they change only with vigil's version, so browsers may keep them.
pub async fn vendor(Path(name): Path<String>) -> Response {
    match VENDOR.iter().find(|(file, _, _)| *file == name) {
        Some((_, kind, body)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(Serialize)]
pub struct RegionShape {
    pub region_id: String,
    pub city_id: String,
    pub cpi: f64,
    pub color: Color,
    pub enterprises: u32,
    /// The county's GeoJSON geometry from `map.boundaries`, if it has one there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boundary: Option<serde_json::Value>,
}

#[derive(Serialize)]
pub struct MapShapes {
    /// `boundaries` (from the file) or `positions` (the page derives them).
    pub outlines: &'static str,
    pub regions: Vec<RegionShape>,
}

pub async fn shapes(State(app): State<AppState>) -> impl IntoResponse {
    let (counties, _) = app.risk.regions();
    let regions = counties
        .into_iter()
        .map(|county| RegionShape {
            boundary: app.boundaries.of(&county.region_id).cloned(),
            region_id: county.region_id,
            city_id: county.city_id,
            cpi: county.cpi,
            color: county.color,
            enterprises: county.enterprises,
        })
        .collect();
    let outlines = if app.boundaries.is_empty() {
        "positions"
    } else {
        "boundaries"
    };
    Json(MapShapes { outlines, regions })
}

//! County outlines from a GeoJSON file (`map.boundaries`), checked before the map serves them:
//! a file anyone can hand the service is bounded in size, features and positions, and every
//! coordinate is a finite longitude and latitude.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::error::IoError;

pub const MAX_BYTES: u64 = 64 << 20;
pub const MAX_FEATURES: usize = 100_000;
pub const MAX_POSITIONS: usize = 5_000_000;

/// Each county's geometry (a GeoJSON Polygon or MultiPolygon), by region id.
#[derive(Debug, Default)]
pub struct Boundaries {
    by_region: BTreeMap<String, Value>,
}

impl Boundaries {
    /// The file at `path`, or none for an empty path.
    pub fn load(path: &str) -> Result<Self, IoError> {
        if path.is_empty() {
            return Ok(Boundaries::default());
        }
        let path = Path::new(path);
        let failed = |why: String| IoError::Boundaries {
            path: path.to_owned(),
            why,
        };
        let file = std::fs::File::open(path).map_err(|source| IoError::File {
            path: path.to_owned(),
            source,
        })?;
        let mut bytes = Vec::new();
        file.take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| IoError::File {
                path: path.to_owned(),
                source,
            })?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(failed(format!("larger than {MAX_BYTES} bytes")));
        }
        let json: Value = serde_json::from_slice(&bytes).map_err(|e| failed(e.to_string()))?;
        Self::from_geojson(json).map_err(failed)
    }

    /// Checks a FeatureCollection and keeps its geometries by region id.
    pub fn from_geojson(json: Value) -> Result<Self, String> {
        if json["type"] != "FeatureCollection" {
            return Err("not a GeoJSON FeatureCollection".into());
        }
        let Value::Array(features) = &json["features"] else {
            return Err("`features` is not an array".into());
        };
        if features.len() > MAX_FEATURES {
            return Err(format!("more than {MAX_FEATURES} features"));
        }
        let mut by_region = BTreeMap::new();
        let mut positions = 0usize;
        for (n, feature) in features.iter().enumerate() {
            let region = feature["properties"]["region_id"]
                .as_str()
                .or_else(|| feature["id"].as_str())
                .filter(|id| !id.is_empty() && id.len() <= 64)
                .ok_or_else(|| format!("feature {n}: no region_id (1..=64 characters)"))?;
            let geometry = &feature["geometry"];
            positions += check_geometry(geometry).map_err(|why| format!("feature {n}: {why}"))?;
            if positions > MAX_POSITIONS {
                return Err(format!("more than {MAX_POSITIONS} positions"));
            }
            if by_region
                .insert(region.to_owned(), geometry.clone())
                .is_some()
            {
                return Err(format!("feature {n}: region {region} twice"));
            }
        }
        Ok(Boundaries { by_region })
    }

    pub fn of(&self, region_id: &str) -> Option<&Value> {
        self.by_region.get(region_id)
    }

    pub fn len(&self) -> usize {
        self.by_region.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_region.is_empty()
    }
}

/// The positions of a Polygon or MultiPolygon, if every ring is closed, has at least four
/// positions, and every position is a longitude and latitude.
fn check_geometry(geometry: &Value) -> Result<usize, String> {
    let polygons: Vec<&Value> = match (geometry["type"].as_str(), &geometry["coordinates"]) {
        (Some("Polygon"), polygon) => vec![polygon],
        (Some("MultiPolygon"), Value::Array(polygons)) => polygons.iter().collect(),
        _ => return Err("geometry is not a Polygon or MultiPolygon".into()),
    };
    let mut positions = 0;
    for polygon in polygons {
        let rings = polygon
            .as_array()
            .ok_or("a polygon is not a list of rings")?;
        if rings.is_empty() {
            return Err("a polygon without rings".into());
        }
        for ring in rings {
            let ring = ring.as_array().ok_or("a ring is not a list of positions")?;
            let points: Vec<(f64, f64)> = ring.iter().map(position).collect::<Result<_, _>>()?;
            if points.len() < 4 || points.first() != points.last() {
                return Err("a ring needs at least four positions, the last the first".into());
            }
            positions += points.len();
        }
    }
    Ok(positions)
}

fn position(value: &Value) -> Result<(f64, f64), String> {
    let pair = value.as_array().filter(|p| p.len() >= 2);
    let lon_lat = pair.and_then(|p| Some((p[0].as_f64()?, p[1].as_f64()?)));
    match lon_lat {
        Some((lon, lat)) if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) => {
            Ok((lon, lat))
        }
        _ => Err(format!("{value} is not a [longitude, latitude] in degrees")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn square(region: &str, lon: f64) -> Value {
        json!({"type": "Feature", "properties": {"region_id": region}, "geometry": {"type": "Polygon",
            "coordinates": [[[lon, 30.0], [lon + 0.1, 30.0], [lon + 0.1, 30.1], [lon, 30.1], [lon, 30.0]]]}})
    }

    #[test]
    fn a_collection_of_counties_is_kept_by_region() {
        let b = Boundaries::from_geojson(json!({"type": "FeatureCollection",
            "features": [square("330102", 120.0), square("330105", 120.2)]}))
        .unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b.of("330105").unwrap()["type"], "Polygon");
    }

    #[test]
    fn hostile_collections_are_refused() {
        let with = |feature: Value| json!({"type": "FeatureCollection", "features": [feature]});
        let mut open_ring = square("330102", 120.0);
        open_ring["geometry"]["coordinates"][0][4] = json!([121.0, 30.0]);
        let mut off_earth = square("330102", 120.0);
        off_earth["geometry"]["coordinates"][0][1] = json!([200.0, 30.0]);
        let mut not_a_number = square("330102", 120.0);
        not_a_number["geometry"]["coordinates"][0][1] = json!(["120", 30.0]);
        let mut a_point = square("330102", 120.0);
        a_point["geometry"] = json!({"type": "Point", "coordinates": [120.0, 30.0]});
        let mut unnamed = square("330102", 120.0);
        unnamed["properties"] = json!({});
        let hostile = [
            json!({"type": "Feature"}),
            json!({"type": "FeatureCollection", "features": {}}),
            with(open_ring),
            with(off_earth),
            with(not_a_number),
            with(a_point),
            with(unnamed),
            json!({"type": "FeatureCollection", "features": [square("330102", 120.0), square("330102", 121.0)]}),
        ];
        for h in hostile {
            assert!(Boundaries::from_geojson(h.clone()).is_err(), "{h}");
        }
    }
}

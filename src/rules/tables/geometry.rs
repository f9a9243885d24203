//! Plane geometry on a site's scale (hundreds of metres): how far a point lies outside a
//! polygon, in metres, for the permit-location rule (R10). Longitude and latitude are
//! projected onto a local plane around the polygon (equirectangular), which is exact to well
//! under a metre at this scale.

const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// Distance in metres from `point` (`[lon, lat]`) to `polygon` (`[lon, lat]` vertices), zero
/// when the point is inside. `None` for a polygon of fewer than three vertices.
pub fn metres_outside(point: [f64; 2], polygon: &[[f64; 2]]) -> Option<f64> {
    if polygon.len() < 3 {
        return None;
    }
    let origin = polygon[0];
    let project = |p: [f64; 2]| {
        let x = (p[0] - origin[0]).to_radians() * EARTH_RADIUS_M * origin[1].to_radians().cos();
        let y = (p[1] - origin[1]).to_radians() * EARTH_RADIUS_M;
        (x, y)
    };
    let p = project(point);
    let vertices: Vec<(f64, f64)> = polygon.iter().map(|v| project(*v)).collect();
    if contains(p, &vertices) {
        return Some(0.0);
    }
    let edges = vertices.iter().zip(vertices.iter().cycle().skip(1));
    edges
        .map(|(a, b)| distance_to_segment(p, *a, *b))
        .min_by(f64::total_cmp)
}

/// Even-odd ray casting.
fn contains(p: (f64, f64), vertices: &[(f64, f64)]) -> bool {
    let mut inside = false;
    let mut j = vertices.len() - 1;
    for (i, vi) in vertices.iter().enumerate() {
        let vj = vertices[j];
        if (vi.1 > p.1) != (vj.1 > p.1) && p.0 < (vj.0 - vi.0) * (p.1 - vi.1) / (vj.1 - vi.1) + vi.0
        {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length2 = dx * dx + dy * dy;
    let t = if length2 == 0.0 {
        0.0
    } else {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / length2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// About 96 m by 111 m at latitude 30.25.
    const SQUARE: [[f64; 2]; 4] = [
        [120.170, 30.250],
        [120.171, 30.250],
        [120.171, 30.251],
        [120.170, 30.251],
    ];

    #[test]
    fn inside_is_zero_and_outside_is_metres_to_the_nearest_edge() {
        assert_eq!(metres_outside([120.1705, 30.2505], &SQUARE), Some(0.0));
        // 0.0002 degrees of longitude east of the east edge: about 19 m.
        let east = metres_outside([120.1712, 30.2505], &SQUARE).unwrap();
        assert!((east - 19.2).abs() < 0.5, "{east}");
        // 0.0001 degrees of latitude north: about 11 m.
        let north = metres_outside([120.1705, 30.2511], &SQUARE).unwrap();
        assert!((north - 11.1).abs() < 0.5, "{north}");
        assert_eq!(metres_outside([0.0, 0.0], &SQUARE[..2]), None);
    }
}

//! GB 18218-2018 major hazard grading (DOMAIN.md A3): R = α · Σ βᵢ · qᵢ/Qᵢ, its level, and α
//! from the population within 500 m of the boundary.

use super::Substance;

/// α for the people who could be exposed outside the plant within 500 m.
pub fn alpha_for_population(pop_500m: u32) -> f64 {
    match pop_500m {
        0 => 0.5,
        1..=29 => 1.0,
        30..=49 => 1.2,
        50..=99 => 1.5,
        _ => 2.0,
    }
}

/// S = Σ qᵢ/Qᵢ: a unit with S ≥ 1 is a major hazard.
pub fn s_value(substances: &[Substance]) -> f64 {
    substances
        .iter()
        .filter(|s| s.q_crit_t > 0.0)
        .map(|s| s.q_design_t / s.q_crit_t)
        .sum()
}

/// R = α · Σ βᵢ · qᵢ/Qᵢ.
pub fn r_value(alpha: f64, substances: &[Substance]) -> f64 {
    alpha
        * substances
            .iter()
            .filter(|s| s.q_crit_t > 0.0)
            .map(|s| s.beta * s.q_design_t / s.q_crit_t)
            .sum::<f64>()
}

/// Level 1 (R ≥ 100), 2 (50 ≤ R < 100), 3 (10 ≤ R < 50), 4 (R < 10).
pub fn level_for_r(r: f64) -> u8 {
    match r {
        r if r >= 100.0 => 1,
        r if r >= 50.0 => 2,
        r if r >= 10.0 => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn substance(q: f64, crit: f64, beta: f64) -> Substance {
        Substance {
            cas: "7446-09-5".into(),
            name: "sulphur dioxide".into(),
            ghs_class: None,
            q_design_t: q,
            q_crit_t: crit,
            beta,
        }
    }

    #[test]
    fn the_standards_worked_example_is_level_3() {
        // SO2, 200 t held, Q 20 t, β 2, α 1.5 (50–99 people): R = 30.
        let so2 = [substance(200.0, 20.0, 2.0)];
        let alpha = alpha_for_population(60);
        assert_eq!(alpha, 1.5);
        assert!((r_value(alpha, &so2) - 30.0).abs() < 1e-9);
        assert_eq!(level_for_r(r_value(alpha, &so2)), 3);
        assert!((s_value(&so2) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn levels_and_alpha_change_at_their_boundaries() {
        assert_eq!(
            [level_for_r(100.0), level_for_r(99.9), level_for_r(50.0)],
            [1, 2, 2]
        );
        assert_eq!(
            [level_for_r(49.9), level_for_r(10.0), level_for_r(9.9)],
            [3, 3, 4]
        );
        let alphas = [0, 1, 29, 30, 49, 50, 99, 100].map(alpha_for_population);
        assert_eq!(alphas, [0.5, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5, 2.0]);
    }
}

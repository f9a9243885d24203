//! Physical plausibility: values no instrument could truly report. A reading outside its
//! instrument's range is *not* implausible (rule R4 flags it); a negative concentration is.

use super::enums::IndicatorKind;

/// Absolute zero in the units vigil accepts for temperatures.
const ABSOLUTE_ZERO_C: f64 = -273.15;
const ABSOLUTE_ZERO_K: f64 = 0.0;

/// Checks one reading against what its kind and unit allow.
pub fn check_reading(kind: IndicatorKind, unit: &str, value: f64) -> Result<(), String> {
    if !value.is_finite() {
        return Err(format!("value {value} is not finite"));
    }
    match kind {
        IndicatorKind::O2 => percent(value, "oxygen"),
        IndicatorKind::FlammableGas | IndicatorKind::ToxicGas | IndicatorKind::Composition => {
            non_negative(value, "concentration")
        }
        IndicatorKind::Level if is_percent(unit) => non_negative(value, "level"),
        IndicatorKind::Temp => above_absolute_zero(value, unit),
        _ => Ok(()),
    }
}

fn is_percent(unit: &str) -> bool {
    unit.trim_start().starts_with('%')
}

fn above_absolute_zero(value: f64, unit: &str) -> Result<(), String> {
    let floor = if unit.trim() == "K" {
        ABSOLUTE_ZERO_K
    } else {
        ABSOLUTE_ZERO_C
    };
    if value < floor {
        Err(format!("temperature {value} {unit} is below absolute zero"))
    } else {
        Ok(())
    }
}

/// A share in percent: 0 to 100.
pub fn percent(value: f64, what: &str) -> Result<(), String> {
    if (0.0..=100.0).contains(&value) {
        Ok(())
    } else {
        Err(format!("{what} {value} % is outside 0..100 %"))
    }
}

pub fn non_negative(value: f64, what: &str) -> Result<(), String> {
    if value >= 0.0 {
        Ok(())
    } else {
        Err(format!("{what} {value} is negative"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_is_plausible_but_negative_gas_is_not() {
        assert!(check_reading(IndicatorKind::FlammableGas, "%LEL", 140.0).is_ok());
        assert!(check_reading(IndicatorKind::FlammableGas, "%LEL", -1.0).is_err());
        assert!(check_reading(IndicatorKind::O2, "%vol", 100.5).is_err());
        assert!(check_reading(IndicatorKind::Temp, "°C", -300.0).is_err());
        assert!(check_reading(IndicatorKind::Temp, "K", 10.0).is_ok());
        assert!(check_reading(IndicatorKind::Press, "kPa", -50.0).is_ok());
    }
}

//! Constant inputs of the two-region model at which fixed points are searched.

use super::{Action, WAIT_COST};
use crate::error::{Error, Result};

/// Names accepted by [`named_input`].
pub const NAMED_INPUTS: [&str; 3] = ["wait", "iti", "trial-start"];

/// Offer in µL used for `trial-start` when the caller gives none.
pub const DEFAULT_NAMED_OFFER_UL: f64 = 20.0;

/// Returns the 4-channel input `[offer, start flag, previous reward, previous action]` for
/// the named epoch.
///
/// * `wait`: `[0, 0, −0.05, 0]`, a mid-trial step after a paid wait cost and a wait action;
/// * `iti`: `[0, 0, 0, 2]`, an ITI step after the zero-paying last ITI step;
/// * `trial-start`: `[ln offer_ul, 1, 0, 2]`, the first step of a trial after an ITI.
///
/// `offer_ul` is used only by `trial-start` and must be positive and finite there.
pub fn named_input(name: &str, offer_ul: f64) -> Result<[f64; 4]> {
    let iti_code = Action::Iti.code() as f64;

    match name {
        "wait" => Ok([0.0, 0.0, WAIT_COST, Action::Wait.code() as f64]),
        "iti" => Ok([0.0, 0.0, 0.0, iti_code]),
        "trial-start" => {
            if !(offer_ul.is_finite() && offer_ul > 0.0) {
                return Err(Error::invalid(
                    "offer",
                    format!("{offer_ul} µL; expected a positive volume such as 20"),
                ));
            }
            Ok([offer_ul.ln(), 1.0, 0.0, iti_code])
        }
        other => Err(Error::invalid(
            "input name",
            format!(
                "'{other}' is unknown; expected one of {}",
                NAMED_INPUTS.join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_inputs_have_documented_values() {
        assert_eq!(named_input("wait", 20.0).unwrap(), [0.0, 0.0, -0.05, 0.0]);
        assert_eq!(named_input("iti", 20.0).unwrap(), [0.0, 0.0, 0.0, 2.0]);
        assert_eq!(
            named_input("trial-start", 80.0).unwrap(),
            [80f64.ln(), 1.0, 0.0, 2.0]
        );
    }

    #[test]
    fn unknown_name_lists_accepted_names() {
        let error = named_input("rest", 20.0).unwrap_err().to_string();
        assert!(error.contains("'rest'"), "{error}");
        for name in NAMED_INPUTS {
            assert!(error.contains(name), "{error}");
        }
    }

    #[test]
    fn trial_start_rejects_bad_offer() {
        for offer in [0.0, -5.0, f64::NAN, f64::INFINITY] {
            assert!(named_input("trial-start", offer).is_err(), "offer {offer}");
        }
        // The offer is ignored by the other names.
        assert!(named_input("wait", f64::NAN).is_ok());
    }
}

//! Exact expected values of the planted model, in closed form: conversion
//! rates by channel and arm, micro prevalences, crude risk ratios (including
//! the confounded one) and the BG/NBD expected number of repeat purchases.
//!
//! No simulation: exposures are independent given the acquisition channel and
//! the purchase probability is linear in them, so every expectation is a sum
//! over channels.

use super::model::{
    channel_prevalence, prevalence, Arm, Channel, MicroSpec, PurchaseModel, BGNBD_A, BGNBD_ALPHA,
    BGNBD_B, BGNBD_R, CHANNELS, MICROS,
};

/// Expected P(buy) for users acquired by `channel`, in `arm` or averaged over arms.
pub(crate) fn channel_conversion(model: &PurchaseModel, channel: Channel, arm: Option<Arm>) -> f64 {
    let bracket: f64 = 1.0
        + MICROS
            .iter()
            .map(|spec| {
                let pi = match arm {
                    Some(arm) => prevalence(spec, channel, arm),
                    None => channel_prevalence(spec, channel, model.experiment_share),
                };
                model.weights[spec.micro.index()] * pi
            })
            .sum::<f64>();
    CHANNELS[channel.index()].base_rate * bracket
}

pub(crate) fn channel_conversion_mix(model: &PurchaseModel, arm: Arm) -> f64 {
    CHANNELS
        .iter()
        .map(|c| c.acquisition_share * channel_conversion(model, c.channel, Some(arm)))
        .sum()
}

pub(crate) fn expected_conversion(model: &PurchaseModel) -> f64 {
    CHANNELS
        .iter()
        .map(|c| c.acquisition_share * channel_conversion(model, c.channel, None))
        .sum()
}

pub(crate) fn expected_prevalence(spec: &MicroSpec, model: &PurchaseModel) -> f64 {
    CHANNELS
        .iter()
        .map(|c| c.acquisition_share * channel_prevalence(spec, c.channel, model.experiment_share))
        .sum()
}

/// Exact expected crude risk ratio of a micro: exposures are independent
/// given the channel, so P(buy, exposed = e) sums over channels in closed form.
pub(crate) fn crude_risk_ratio(spec: &MicroSpec, model: &PurchaseModel) -> f64 {
    let m = spec.micro.index();
    let mut joint = [0.0; 2]; // P(buy, e)
    let mut marginal = [0.0; 2]; // P(e)
    for c in &CHANNELS {
        let share = model.experiment_share;
        let others: f64 = MICROS
            .iter()
            .filter(|k| k.micro != spec.micro)
            .map(|k| model.weights[k.micro.index()] * channel_prevalence(k, c.channel, share))
            .sum();
        let pi = channel_prevalence(spec, c.channel, share);
        for (e, p_e) in [(0, 1.0 - pi), (1, pi)] {
            let p_buy = c.base_rate * (1.0 + others + model.weights[m] * e as f64);
            joint[e] += c.acquisition_share * p_e * p_buy;
            marginal[e] += c.acquisition_share * p_e;
        }
    }
    (joint[1] / marginal[1]) / (joint[0] / marginal[0])
}

/// BG/NBD expected number of repeat purchases in `(0, t]` days for a new
/// customer (Fader, Hardie & Lee 2005, eq. 9).
pub(crate) fn bgnbd_expected_purchases(t: f64) -> f64 {
    let (r, alpha, a, b) = (BGNBD_R, BGNBD_ALPHA, BGNBD_A, BGNBD_B);
    let z = t / (alpha + t);
    (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)).powf(r) * hyp2f1(r, b, a + b - 1.0, z))
}

/// Gauss hypergeometric ₂F₁(a, b; c; z) by its power series, for 0 ≤ z < 1.
pub(crate) fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 0..200_000 {
        let k = f64::from(k);
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if term.abs() < 1e-15 * sum.abs() {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::model::MICROS;

    #[test]
    fn crude_ratios_equal_planted_unless_confounded() {
        for share in [0.0, 0.37, 1.0] {
            let model = PurchaseModel::solve(share);
            for spec in &MICROS {
                let crude = crude_risk_ratio(spec, &model);
                if spec.email_prevalence.is_none() {
                    assert!(
                        (crude - spec.risk_ratio).abs() < 1e-9,
                        "{} {crude}",
                        spec.name
                    );
                } else {
                    assert!(crude > spec.risk_ratio + 0.2, "{} {crude}", spec.name);
                }
            }
        }
    }

    #[test]
    fn hyp2f1_matches_closed_forms() {
        // 2F1(1, 1; 2; z) = -ln(1 - z) / z
        for z in [0.1, 0.5, 0.9, 0.97] {
            let exact = -(1.0f64 - z).ln() / z;
            assert!((hyp2f1(1.0, 1.0, 2.0, z) - exact).abs() < 1e-9 * exact);
        }
        // 2F1(a, b; b; z) = (1 - z)^-a
        assert!((hyp2f1(0.75, 2.5, 2.5, 0.8) - 0.2f64.powf(-0.75)).abs() < 1e-9);
    }

    #[test]
    fn bgnbd_expectation_is_increasing_and_small_at_zero() {
        assert!(bgnbd_expected_purchases(1e-9).abs() < 1e-6);
        let mut last = 0.0;
        for t in [1.0, 10.0, 60.0, 365.0] {
            let x = bgnbd_expected_purchases(t);
            assert!(x > last, "E[X({t})] = {x}");
            last = x;
        }
        // Without dropout E[X(t)] would be t r / alpha; dropout makes it smaller.
        assert!(bgnbd_expected_purchases(365.0) < 365.0 * BGNBD_R / BGNBD_ALPHA);
    }
}

//! The simulated shop's planted parameters and the purchase model built from them.
//!
//! Everything a later analysis is supposed to rediscover is a constant here:
//! channel mix and purchase propensity, traffic sources, micro-conversion
//! prevalences and risk ratios, funnel drop-off, the repeat-purchase (BG/NBD)
//! and spend (Gamma-Gamma) parameters and the A/B experiment. `truth.rs` turns
//! them into exact expected values for `ground_truth.json`.
//!
//! # Purchase model
//!
//! Whether a user ever buys is decided once per user:
//!
//! ```text
//! P(buy) = base_rate[acquisition channel] * (1 + Σ_m weight[m] * exposed[m])
//! ```
//!
//! Exposures are independent Bernoulli draws (independent of each other and of
//! the channel, except `newsletter_signup`, which is deliberately more common
//! among users acquired by email). Because the model is additive inside the
//! bracket and exposures are independent, the *crude* risk ratio of micro `m`,
//! P(buy | exposed) / P(buy | not exposed), equals
//! `1 + weight[m] / (1 + Σ_{k≠m} weight[k] * π̃[k])`, where `π̃[k]` is the
//! prevalence of `k` weighted by `base_rate` over channels. [`PurchaseModel::solve`]
//! picks the weights so that this equals the planted risk ratio exactly. The
//! largest possible probability stays below 1, so nothing is clipped.

/// Arrival (and session) channels, named as the default channel rules name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Channel {
    Organic,
    PaidSearch,
    PaidSocial,
    Email,
    Referral,
    Direct,
}

impl Channel {
    pub(crate) const ALL: [Channel; 6] = [
        Channel::Organic,
        Channel::PaidSearch,
        Channel::PaidSocial,
        Channel::Email,
        Channel::Referral,
        Channel::Direct,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Channel::Organic => "organic",
            Channel::PaidSearch => "paid_search",
            Channel::PaidSocial => "paid_social",
            Channel::Email => "email",
            Channel::Referral => "referral",
            Channel::Direct => "direct",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Per-channel behaviour of users *acquired* through that channel.
pub(crate) struct ChannelSpec {
    pub channel: Channel,
    /// Share of new users whose first session comes through this channel.
    pub acquisition_share: f64,
    /// Base purchase probability (before micro-conversion effects).
    pub base_rate: f64,
    /// Share of returning (pre-purchase) sessions that come through this
    /// channel when the user does not come back through their first channel.
    pub return_share: f64,
    /// Share of repeat-purchase sessions that come through this channel.
    pub repeat_share: f64,
    /// Device mix: desktop, mobile, tablet.
    pub devices: [f64; 3],
}

/// The planted channel effects. `paid_search` is the strongest channel both by
/// rate and by volume (share × rate), `paid_social` the weakest.
pub(crate) const CHANNELS: [ChannelSpec; 6] = [
    ChannelSpec {
        channel: Channel::Organic,
        acquisition_share: 0.30,
        base_rate: 0.016,
        return_share: 0.25,
        repeat_share: 0.15,
        devices: [0.40, 0.53, 0.07],
    },
    ChannelSpec {
        channel: Channel::PaidSearch,
        acquisition_share: 0.20,
        base_rate: 0.052,
        return_share: 0.12,
        repeat_share: 0.10,
        devices: [0.50, 0.44, 0.06],
    },
    ChannelSpec {
        channel: Channel::PaidSocial,
        acquisition_share: 0.22,
        base_rate: 0.010,
        return_share: 0.08,
        repeat_share: 0.05,
        devices: [0.18, 0.77, 0.05],
    },
    ChannelSpec {
        channel: Channel::Email,
        acquisition_share: 0.08,
        base_rate: 0.034,
        return_share: 0.15,
        repeat_share: 0.35,
        devices: [0.45, 0.48, 0.07],
    },
    ChannelSpec {
        channel: Channel::Referral,
        acquisition_share: 0.07,
        base_rate: 0.022,
        return_share: 0.05,
        repeat_share: 0.0,
        devices: [0.55, 0.40, 0.05],
    },
    ChannelSpec {
        channel: Channel::Direct,
        acquisition_share: 0.13,
        base_rate: 0.028,
        return_share: 0.35,
        repeat_share: 0.35,
        devices: [0.52, 0.40, 0.08],
    },
];

/// Probability that a returning pre-purchase session comes through the
/// user's acquisition channel again (otherwise it is drawn from `return_share`).
pub(crate) const SAME_CHANNEL_RETURN: f64 = 0.5;

pub(crate) const DEVICES: [&str; 3] = ["desktop", "mobile", "tablet"];

pub(crate) const COUNTRIES: [(&str, f64); 10] = [
    ("US", 0.40),
    ("GB", 0.12),
    ("DE", 0.10),
    ("FR", 0.08),
    ("CA", 0.07),
    ("AU", 0.05),
    ("NL", 0.05),
    ("ES", 0.05),
    ("IT", 0.04),
    ("SE", 0.04),
];

/// One traffic source: what a session's source/medium/campaign columns hold.
pub(crate) struct Touch {
    pub channel: Channel,
    pub source: &'static str,
    pub medium: &'static str,
    pub campaign: Option<&'static str>,
    /// Weight among the touches of the same channel.
    pub weight: f64,
}

const fn touch(
    channel: Channel,
    source: &'static str,
    medium: &'static str,
    campaign: Option<&'static str>,
    weight: f64,
) -> Touch {
    Touch {
        channel,
        source,
        medium,
        campaign,
        weight,
    }
}

/// Every source/medium/campaign combination the generator writes. They map
/// to channels by the default channel rules (medium first, then source).
#[rustfmt::skip]
pub(crate) const TOUCHES: [Touch; 21] = [
    touch(Channel::Organic, "google", "organic", None, 0.80),
    touch(Channel::Organic, "bing", "organic", None, 0.15),
    touch(Channel::Organic, "duckduckgo", "organic", None, 0.05),
    touch(Channel::PaidSearch, "google", "cpc", Some("brand_search"), 0.40),
    touch(Channel::PaidSearch, "google", "cpc", Some("generic_running"), 0.30),
    touch(Channel::PaidSearch, "google", "cpc", Some("generic_outdoor"), 0.15),
    touch(Channel::PaidSearch, "bing", "cpc", Some("brand_search"), 0.15),
    touch(Channel::PaidSocial, "facebook", "paid_social", Some("spring_sale"), 0.25),
    touch(Channel::PaidSocial, "facebook", "paid_social", Some("retargeting"), 0.20),
    touch(Channel::PaidSocial, "instagram", "paid_social", Some("spring_sale"), 0.15),
    touch(Channel::PaidSocial, "instagram", "paid_social", Some("lookalike_ugc"), 0.20),
    touch(Channel::PaidSocial, "tiktok", "paid_social", Some("lookalike_ugc"), 0.20),
    touch(Channel::Email, "newsletter", "email", Some("weekly_digest"), 0.45),
    touch(Channel::Email, "newsletter", "email", Some("product_launch"), 0.25),
    touch(Channel::Email, "crm", "email", Some("cart_reminder"), 0.15),
    touch(Channel::Email, "crm", "email", Some("welcome_series"), 0.15),
    touch(Channel::Referral, "reddit.com", "referral", None, 0.35),
    touch(Channel::Referral, "runnersworld.com", "referral", None, 0.25),
    touch(Channel::Referral, "slickdeals.net", "referral", None, 0.25),
    touch(Channel::Referral, "wirecutter.com", "referral", None, 0.15),
    touch(Channel::Direct, "(direct)", "(none)", None, 1.0),
];

/// The micro conversions with a planted effect on purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Micro {
    Search,
    ReviewRead,
    VideoView,
    Wishlist,
    NewsletterSignup,
    SignUp,
    /// Derived, not an event: a `product_view` followed by ≥ 180 s before the
    /// next event of the same session.
    Dwell,
}

pub(crate) const MICRO_COUNT: usize = 7;

impl Micro {
    pub(crate) const ALL: [Micro; MICRO_COUNT] = [
        Micro::Search,
        Micro::ReviewRead,
        Micro::VideoView,
        Micro::Wishlist,
        Micro::NewsletterSignup,
        Micro::SignUp,
        Micro::Dwell,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Planted prevalence and effect of one micro conversion.
pub(crate) struct MicroSpec {
    pub micro: Micro,
    /// Name in `ground_truth.json` (the event name, or the derived micro's name).
    pub name: &'static str,
    /// How an analysis recognises the micro in the data.
    pub definition: &'static str,
    /// P(exposed) for users acquired by any channel but email (and for
    /// `control` and unassigned users, for the experiment's micro).
    pub prevalence: f64,
    /// P(exposed) for users acquired by email, where it differs (confounding).
    pub email_prevalence: Option<f64>,
    /// Planted risk ratio of a later purchase, conditional on the acquisition
    /// channel (equal to the expected crude ratio unless confounded).
    pub risk_ratio: f64,
}

pub(crate) const MICROS: [MicroSpec; MICRO_COUNT] = [
    MicroSpec {
        micro: Micro::Search,
        name: "search",
        definition: "event_name = 'search'",
        prevalence: 0.40,
        email_prevalence: None,
        risk_ratio: 1.0,
    },
    MicroSpec {
        micro: Micro::ReviewRead,
        name: "review_read",
        definition: "event_name = 'review_read'",
        prevalence: 0.15,
        email_prevalence: None,
        risk_ratio: 2.0,
    },
    MicroSpec {
        micro: Micro::VideoView,
        name: "product_video_view",
        definition: "event_name = 'product_video_view'",
        prevalence: 0.05,
        email_prevalence: None,
        risk_ratio: 4.0,
    },
    MicroSpec {
        micro: Micro::Wishlist,
        name: "add_to_wishlist",
        definition: "event_name = 'add_to_wishlist'",
        prevalence: 0.08,
        email_prevalence: None,
        risk_ratio: 2.5,
    },
    MicroSpec {
        micro: Micro::NewsletterSignup,
        name: "newsletter_signup",
        definition: "event_name = 'newsletter_signup'",
        prevalence: 0.05,
        email_prevalence: Some(0.40),
        risk_ratio: 1.5,
    },
    MicroSpec {
        micro: Micro::SignUp,
        name: "sign_up",
        definition: "event_name = 'sign_up'",
        prevalence: 0.12,
        email_prevalence: None,
        risk_ratio: 1.8,
    },
    MicroSpec {
        micro: Micro::Dwell,
        name: "product_dwell_3min",
        definition: "a product_view followed by >= 180 s before the next event of the same session",
        prevalence: 0.20,
        email_prevalence: None,
        risk_ratio: 1.5,
    },
];

/// The A/B experiment: from `start_day` on, each new user is assigned at their
/// first session, 50/50; `treatment` multiplies the video micro's prevalence.
pub(crate) const EXPERIMENT: &str = "pdp_video";
pub(crate) const EXPERIMENT_TREATMENT_SHARE: f64 = 0.5;
pub(crate) const EXPERIMENT_VIDEO_LIFT: f64 = 0.30;

/// Experiment arm of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arm {
    Unassigned,
    Control,
    Treatment,
}

impl Arm {
    pub(crate) fn variant(self) -> Option<&'static str> {
        match self {
            Arm::Unassigned => None,
            Arm::Control => Some("control"),
            Arm::Treatment => Some("treatment"),
        }
    }
}

/// Non-buyers' drop-off in the purchase funnel. Buyers always walk the whole
/// funnel (product_view → add_to_cart → begin_checkout → purchase) in one session.
pub(crate) const NONBUYER_ADD_TO_CART: f64 = 0.35;
pub(crate) const NONBUYER_CHECKOUT_GIVEN_CART: f64 = 0.06;
pub(crate) const FUNNEL_STEPS: [&str; 4] =
    ["product_view", "add_to_cart", "begin_checkout", "purchase"];
pub(crate) const FUNNEL_WINDOW_DAYS: u32 = 7;

/// BG/NBD repeat purchasing, in days: λ ~ Gamma(r, rate α); p ~ Beta(a, b).
pub(crate) const BGNBD_R: f64 = 0.75;
pub(crate) const BGNBD_ALPHA: f64 = 30.0;
pub(crate) const BGNBD_A: f64 = 0.8;
pub(crate) const BGNBD_B: f64 = 2.5;

/// Gamma-Gamma repeat spend: ν ~ Gamma(q, rate γ); value ~ Gamma(p, rate ν).
pub(crate) const GG_P: f64 = 6.25;
pub(crate) const GG_Q: f64 = 3.74;
pub(crate) const GG_GAMMA: f64 = 15.44;

/// First order value ~ LogNormal(μ, σ).
pub(crate) const FIRST_ORDER_MU: f64 = 3.8;
pub(crate) const FIRST_ORDER_SIGMA: f64 = 0.55;

/// Session timing: gaps inside a session stay far below the 30-minute timeout,
/// gaps between sessions of one user are at least two hours.
pub(crate) const SESSION_TIMEOUT_MINUTES: u32 = 30;
pub(crate) const MIN_SESSION_GAP_MS: i64 = 2 * 3_600_000;
pub(crate) const MAX_NORMAL_GAP_MS: i64 = 170_000;
pub(crate) const DWELL_MIN_MS: i64 = 185_000;
pub(crate) const DWELL_MAX_MS: i64 = 900_000;
pub(crate) const DWELL_THRESHOLD_SECONDS: u32 = 180;
/// All pre-purchase sessions (and so every funnel step before the first
/// purchase) fall within this many ms of the user's first event.
pub(crate) const JOURNEY_HORIZON_MS: i64 = 156 * 3_600_000;

/// Dirt rates (per clean event) used with `--dirty`.
pub(crate) const DIRT_DUPLICATE: f64 = 0.003;
pub(crate) const DIRT_NULL_USER: f64 = 0.002;
pub(crate) const DIRT_UNKNOWN: f64 = 0.002;
pub(crate) const UNKNOWN_EVENT_NAME: &str = "debug_ping";

/// The purchase model solved for one run (it depends on the share of users in
/// the experiment, because the treatment changes the video micro's prevalence).
#[derive(Debug, Clone)]
pub(crate) struct PurchaseModel {
    /// Weight of each micro inside the bracket, by `Micro::index`.
    pub weights: [f64; MICRO_COUNT],
    /// Share of users assigned to the experiment (either arm).
    pub experiment_share: f64,
}

impl PurchaseModel {
    /// Solves the weights so that every micro's crude risk ratio is the
    /// planted one (the conditional-on-channel one for the confounded micro).
    ///
    /// With `π̃` the base-rate-weighted prevalences and `A = Σ π̃(RR−1)/(1+(RR−1)π̃)`,
    /// the solution is `T = A/(1−A)` and `w = (RR−1)(1+T)/(1+(RR−1)π̃)`.
    pub(crate) fn solve(experiment_share: f64) -> PurchaseModel {
        let mut a = 0.0;
        for spec in &MICROS {
            let pi = weighted_prevalence(spec, experiment_share);
            let excess = spec.risk_ratio - 1.0;
            a += pi * excess / (1.0 + excess * pi);
        }
        let t = a / (1.0 - a);
        let mut weights = [0.0; MICRO_COUNT];
        for spec in &MICROS {
            let pi = weighted_prevalence(spec, experiment_share);
            let excess = spec.risk_ratio - 1.0;
            weights[spec.micro.index()] = excess * (1.0 + t) / (1.0 + excess * pi);
        }
        PurchaseModel {
            weights,
            experiment_share,
        }
    }

    /// P(buy) for a user acquired by `channel` with the given exposures.
    pub(crate) fn purchase_probability(
        &self,
        channel: Channel,
        exposed: &[bool; MICRO_COUNT],
    ) -> f64 {
        let bracket: f64 = 1.0
            + exposed
                .iter()
                .zip(self.weights.iter())
                .filter(|(e, _)| **e)
                .map(|(_, w)| w)
                .sum::<f64>();
        CHANNELS[channel.index()].base_rate * bracket
    }

    /// The largest purchase probability any user can have (all exposures, best channel).
    pub(crate) fn max_probability(&self) -> f64 {
        let best = CHANNELS.iter().map(|c| c.base_rate).fold(0.0, f64::max);
        best * (1.0 + self.weights.iter().sum::<f64>())
    }
}

/// P(exposed) of a micro for a user acquired by `channel` in `arm`.
pub(crate) fn prevalence(spec: &MicroSpec, channel: Channel, arm: Arm) -> f64 {
    let base = match (channel, spec.email_prevalence) {
        (Channel::Email, Some(p)) => p,
        _ => spec.prevalence,
    };
    if spec.micro == Micro::VideoView && arm == Arm::Treatment {
        base * (1.0 + EXPERIMENT_VIDEO_LIFT)
    } else {
        base
    }
}

/// P(exposed) averaged over experiment arms, for one acquisition channel.
pub(crate) fn channel_prevalence(spec: &MicroSpec, channel: Channel, experiment_share: f64) -> f64 {
    let treated = experiment_share * EXPERIMENT_TREATMENT_SHARE;
    (1.0 - treated) * prevalence(spec, channel, Arm::Control)
        + treated * prevalence(spec, channel, Arm::Treatment)
}

/// Prevalence weighted by acquisition share × base rate (the `π̃` of the model).
fn weighted_prevalence(spec: &MicroSpec, experiment_share: f64) -> f64 {
    let mut num = 0.0;
    let mut den = 0.0;
    for c in &CHANNELS {
        let w = c.acquisition_share * c.base_rate;
        num += w * channel_prevalence(spec, c.channel, experiment_share);
        den += w;
    }
    num / den
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_one() {
        let sum = |f: fn(&ChannelSpec) -> f64| CHANNELS.iter().map(f).sum::<f64>();
        assert!((sum(|c| c.acquisition_share) - 1.0).abs() < 1e-12);
        assert!((sum(|c| c.return_share) - 1.0).abs() < 1e-12);
        assert!((sum(|c| c.repeat_share) - 1.0).abs() < 1e-12);
        assert!((COUNTRIES.iter().map(|c| c.1).sum::<f64>() - 1.0).abs() < 1e-12);
        for (i, c) in CHANNELS.iter().enumerate() {
            assert_eq!(c.channel.index(), i);
            assert!((c.devices.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        for (i, m) in MICROS.iter().enumerate() {
            assert_eq!(m.micro.index(), i);
        }
    }

    #[test]
    fn probabilities_never_clip() {
        for share in [0.0, 0.5, 1.0] {
            let model = PurchaseModel::solve(share);
            assert!(
                model.max_probability() < 0.95,
                "{}",
                model.max_probability()
            );
        }
    }
}

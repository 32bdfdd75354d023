//! `ground_truth.json`: every planted parameter, the exact expected values
//! that follow from them, and the realized counts of what was written.
//!
//! Expected values are computed in closed form from `model.rs` (no
//! simulation), realized values are tallied user by user while generating, so
//! tests can check both that the data matches the plan within sampling error
//! and that an analysis reproduces the exact counts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::event::{Dirt, Event, EventName};
use super::expected::{
    bgnbd_expected_purchases, channel_conversion, channel_conversion_mix, crude_risk_ratio,
    expected_conversion, expected_prevalence,
};
use super::model::{
    Arm, Channel, Micro, PurchaseModel, CHANNELS, EXPERIMENT, EXPERIMENT_TREATMENT_SHARE,
    EXPERIMENT_VIDEO_LIFT, FUNNEL_STEPS, FUNNEL_WINDOW_DAYS, MICROS, MICRO_COUNT,
    NONBUYER_ADD_TO_CART, NONBUYER_CHECKOUT_GIVEN_CART, SAME_CHANNEL_RETURN, TOUCHES,
    UNKNOWN_EVENT_NAME,
};
use super::model::{
    BGNBD_A, BGNBD_ALPHA, BGNBD_B, BGNBD_R, DWELL_MAX_MS, DWELL_THRESHOLD_SECONDS, FIRST_ORDER_MU,
    FIRST_ORDER_SIGMA, GG_GAMMA, GG_P, GG_Q, MIN_SESSION_GAP_MS, SESSION_TIMEOUT_MINUTES,
};
use super::shop::{Shop, UserSummary, DAY_MS};

/// The whole `ground_truth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Version of this file's layout.
    pub format_version: u32,
    pub options: TruthOptions,
    pub period: Period,
    pub counts: Counts,
    pub sessions: SessionTruth,
    pub channels: ChannelsTruth,
    pub micro_conversions: MicroTruths,
    pub funnel: FunnelTruth,
    pub clv: ClvTruth,
    pub experiment: ExperimentTruth,
    pub dirt: DirtTruth,
    pub files: Vec<FileTruth>,
}

/// The options the data was generated with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthOptions {
    pub users: u64,
    pub days: u32,
    pub seed: u64,
    pub start: String,
    pub files: usize,
    pub partition_by_date: bool,
    pub dirty: bool,
}

/// The covered period, `[start, end)` in UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Period {
    pub start: String,
    pub end_exclusive: String,
    pub start_epoch_ms: i64,
    pub end_epoch_ms: i64,
}

/// Realized totals. `clean_events` excludes all dirt rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub rows_written: u64,
    pub clean_events: u64,
    pub users: u64,
    pub sessions: u64,
    pub buyers: u64,
    pub purchases: u64,
    pub revenue: f64,
    pub events_by_name: BTreeMap<String, u64>,
}

/// How sessions were planted, so sessionization finds exactly `count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionTruth {
    pub count: u64,
    pub timeout_minutes: u32,
    pub min_gap_between_sessions_minutes: i64,
    pub max_gap_within_session_seconds: i64,
    pub dwell_threshold_seconds: u32,
    pub note: String,
}

/// Channel rules and planted channel effects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelsTruth {
    pub effect_definition: String,
    /// Channels by planted purchase propensity, strongest first.
    pub ranking: Vec<String>,
    pub strongest: String,
    pub same_channel_return_probability: f64,
    pub by_channel: Vec<ChannelTruth>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelTruth {
    pub channel: String,
    pub rank: usize,
    pub medium: String,
    pub sources: Vec<String>,
    pub campaigns: Vec<String>,
    pub acquisition_share: f64,
    pub base_rate: f64,
    /// base_rate divided by the acquisition-weighted mean base rate.
    pub relative_effect: f64,
    pub return_share: f64,
    pub repeat_purchase_share: f64,
    pub mobile_share: f64,
    /// Expected P(buy) of users acquired by this channel.
    pub expected_conversion_rate: f64,
    pub users: u64,
    pub buyers: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MicroTruths {
    pub exposure_definition: String,
    pub purchase_model: String,
    pub max_purchase_probability: f64,
    pub expected_conversion_rate: f64,
    pub not_planted: Vec<String>,
    pub effects: Vec<MicroTruth>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MicroTruth {
    pub name: String,
    pub definition: String,
    /// P(exposed) for users not acquired by email (control arm for the video).
    pub prevalence: f64,
    pub email_prevalence: Option<f64>,
    /// Expected share of all users exposed.
    pub expected_prevalence: f64,
    /// Risk ratio conditional on acquisition channel.
    pub planted_risk_ratio: f64,
    /// Expected P(buy | exposed) / P(buy | not exposed) over all users.
    pub expected_crude_risk_ratio: f64,
    pub confounded_by: Option<String>,
    pub model_weight: f64,
    pub exposed_users: u64,
    pub exposed_buyers: u64,
    pub unexposed_users: u64,
    pub unexposed_buyers: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelTruth {
    pub steps: Vec<String>,
    pub window_days: u32,
    pub definition: String,
    pub nonbuyer_add_to_cart_probability: f64,
    pub nonbuyer_checkout_given_cart_probability: f64,
    pub expected_step_rates: Vec<StepRate>,
    /// Users reaching each step (in order, within the window), as written.
    pub step_users: Vec<u64>,
    pub step_rates: Vec<StepRate>,
    pub bottleneck: StepRate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRate {
    pub from: String,
    pub to: String,
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClvTruth {
    pub time_unit: String,
    pub bgnbd: BgNbd,
    pub gamma_gamma: GammaGamma,
    pub first_order_value_lognormal_mu: f64,
    pub first_order_value_lognormal_sigma: f64,
    pub expected_first_order_value: f64,
    pub mean_first_order_value: f64,
    pub definition: String,
    pub customers: u64,
    pub repeat_customers: u64,
    pub repeat_purchases: u64,
    /// Σ over customers of distinct purchase days − 1 (daily-aggregated frequency).
    pub repeat_purchase_days: u64,
    /// Σ over customers of E[X(T)] with T = period end − first purchase, in days.
    pub expected_repeat_purchases: f64,
    pub expected_repeat_value: f64,
    pub mean_repeat_value: f64,
    pub repeat_purchases_shifted: u64,
    pub repeat_purchases_dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentTruth {
    pub name: String,
    pub start_date: String,
    pub variants: Vec<String>,
    pub treatment_share: f64,
    pub assignment: String,
    pub affected_micro: String,
    pub planted_relative_lift: f64,
    pub control_prevalence: f64,
    pub treatment_prevalence: f64,
    /// Expected P(buy | treatment) / P(buy | control), through the video effect.
    pub expected_purchase_rate_ratio: f64,
    pub users_control: u64,
    pub users_treatment: u64,
    pub exposed_control: u64,
    pub exposed_treatment: u64,
    pub buyers_control: u64,
    pub buyers_treatment: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirtTruth {
    pub enabled: bool,
    pub null_user_rows: u64,
    pub duplicate_rows: u64,
    pub unknown_name_rows: u64,
    pub unknown_event_names: Vec<String>,
    pub epoch_millis_files: u64,
    pub unsorted_files: u64,
    pub note: String,
}

/// One written Parquet file, path relative to the output directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileTruth {
    pub path: String,
    pub rows: u64,
    /// `timestamp_us_utc`, or `int64_epoch_ms` for the dirty files.
    pub event_time: String,
    pub sorted_by_time: bool,
}

/// Realized counts, added to user by user.
pub(crate) struct Tally {
    users: u64,
    sessions: u64,
    buyers: u64,
    purchases: u64,
    revenue: f64,
    by_name: [u64; EventName::ALL.len()],
    channel_users: [u64; 6],
    channel_buyers: [u64; 6],
    exposed: [[u64; 2]; MICRO_COUNT],
    unexposed: [[u64; 2]; MICRO_COUNT],
    funnel: [u64; 4],
    arm_users: [u64; 3],
    arm_exposed: [u64; 3],
    arm_buyers: [u64; 3],
    repeat_customers: u64,
    repeat_purchases: u64,
    repeat_days: u64,
    repeat_revenue: f64,
    first_order_revenue: f64,
    expected_repeat: f64,
    shifted: u64,
    dropped: u64,
    duplicates: u64,
    null_users: u64,
    unknown: u64,
}

impl Tally {
    pub(crate) fn new() -> Tally {
        Tally {
            users: 0,
            sessions: 0,
            buyers: 0,
            purchases: 0,
            revenue: 0.0,
            by_name: [0; EventName::ALL.len()],
            channel_users: [0; 6],
            channel_buyers: [0; 6],
            exposed: [[0; 2]; MICRO_COUNT],
            unexposed: [[0; 2]; MICRO_COUNT],
            funnel: [0; 4],
            arm_users: [0; 3],
            arm_exposed: [0; 3],
            arm_buyers: [0; 3],
            repeat_customers: 0,
            repeat_purchases: 0,
            repeat_days: 0,
            repeat_revenue: 0.0,
            first_order_revenue: 0.0,
            expected_repeat: 0.0,
            shifted: 0,
            dropped: 0,
            duplicates: 0,
            null_users: 0,
            unknown: 0,
        }
    }

    /// Adds one user's summary and rows.
    pub(crate) fn add(&mut self, user: &UserSummary, events: &[Event], period_end_ms: i64) {
        let bought = usize::from(user.buyer);
        self.users += 1;
        self.sessions += u64::from(user.sessions);
        self.channel_users[user.channel.index()] += 1;
        let mut purchase_days = Vec::new();
        for ev in events.iter().filter(|e| e.dirt == Dirt::Clean) {
            self.by_name[ev.name as usize] += 1;
            if let Some(r) = ev.revenue {
                self.revenue += r;
                self.purchases += 1;
                let day = ev.time_ms.div_euclid(DAY_MS);
                if purchase_days.last() != Some(&day) {
                    purchase_days.push(day);
                }
            }
        }
        for (m, &e) in user.exposed.iter().enumerate() {
            let counts = if e {
                &mut self.exposed[m]
            } else {
                &mut self.unexposed[m]
            };
            counts[0] += 1;
            counts[1] += bought as u64;
        }
        let arm = user.arm as usize;
        self.arm_users[arm] += 1;
        self.arm_exposed[arm] += u64::from(user.exposed[Micro::VideoView.index()]);
        self.arm_buyers[arm] += bought as u64;
        self.funnel[0] += 1;
        self.funnel[1] += u64::from(user.added_to_cart);
        self.funnel[2] += u64::from(user.began_checkout);
        self.funnel[3] += bought as u64;
        if let Some(first) = user.first_purchase_ms {
            self.buyers += 1;
            self.channel_buyers[user.channel.index()] += 1;
            self.repeat_customers += u64::from(user.repeat_purchases > 0);
            self.repeat_purchases += u64::from(user.repeat_purchases);
            self.repeat_days += purchase_days.len().saturating_sub(1) as u64;
            self.repeat_revenue += user.repeat_revenue;
            self.first_order_revenue += user.first_order_value;
            let t_days = (period_end_ms - first) as f64 / DAY_MS as f64;
            self.expected_repeat += bgnbd_expected_purchases(t_days);
            self.shifted += u64::from(user.repeat_shifted);
            self.dropped += u64::from(user.repeat_dropped);
        }
        self.duplicates += u64::from(user.duplicates);
        self.null_users += u64::from(user.null_users);
        self.unknown += u64::from(user.unknown);
    }

    /// The ground truth of a finished run.
    pub(crate) fn into_truth(
        self,
        options: TruthOptions,
        period: Period,
        shop: &Shop,
        files: Vec<FileTruth>,
    ) -> GroundTruth {
        let model = &shop.model;
        let rows_written = files.iter().map(|f| f.rows).sum();
        let clean_events = self.by_name.iter().sum();
        let events_by_name = EventName::ALL
            .iter()
            .filter(|n| **n != EventName::DebugPing)
            .map(|n| (n.as_str().to_string(), self.by_name[*n as usize]))
            .collect();
        let experiment = self.experiment_truth(model, shop.experiment_start_day, &period);
        let dirt = DirtTruth {
            enabled: options.dirty,
            null_user_rows: self.null_users,
            duplicate_rows: self.duplicates,
            unknown_name_rows: self.unknown,
            unknown_event_names: vec![UNKNOWN_EVENT_NAME.to_string()],
            epoch_millis_files: files.iter().filter(|f| f.event_time != TIME_US).count() as u64,
            unsorted_files: files.iter().filter(|f| !f.sorted_by_time).count() as u64,
            note: "Dirt rows are added to the clean rows, which stay identical to a clean run: \
                   null-user rows copy a clean row under a new event_id; duplicate rows repeat a \
                   clean row exactly (same event_id); debug_ping rows share the time of one of \
                   the user's clean non-product_view events. Files with index % 3 == 1 (when \
                   there are 2+ files) store event_time as Int64 epoch milliseconds; files with \
                   index % 3 == 0 are shuffled within each day."
                .to_string(),
        };
        GroundTruth {
            format_version: 1,
            counts: Counts {
                rows_written,
                clean_events,
                users: self.users,
                sessions: self.sessions,
                buyers: self.buyers,
                purchases: self.purchases,
                revenue: round6(self.revenue),
                events_by_name,
            },
            sessions: session_truth(self.sessions),
            channels: self.channels_truth(model),
            micro_conversions: self.micro_truths(model),
            funnel: self.funnel_truth(model),
            clv: self.clv_truth(&period),
            experiment,
            dirt,
            files,
            options,
            period,
        }
    }

    fn channels_truth(&self, model: &PurchaseModel) -> ChannelsTruth {
        let mean_base: f64 = CHANNELS
            .iter()
            .map(|c| c.acquisition_share * c.base_rate)
            .sum();
        let mut ranking: Vec<Channel> = Channel::ALL.to_vec();
        ranking.sort_by(|a, b| {
            CHANNELS[b.index()]
                .base_rate
                .total_cmp(&CHANNELS[a.index()].base_rate)
        });
        let by_channel = CHANNELS
            .iter()
            .map(|spec| {
                let c = spec.channel;
                let touches = TOUCHES.iter().filter(|t| t.channel == c);
                let mut sources: Vec<String> = touches.clone().map(|t| t.source.into()).collect();
                sources.dedup();
                let mut campaigns: Vec<String> = touches
                    .clone()
                    .filter_map(|t| t.campaign.map(Into::into))
                    .collect();
                campaigns.sort();
                campaigns.dedup();
                ChannelTruth {
                    channel: c.name().to_string(),
                    rank: ranking.iter().position(|r| *r == c).map_or(0, |p| p + 1),
                    medium: touches.clone().next().map_or("", |t| t.medium).to_string(),
                    sources,
                    campaigns,
                    acquisition_share: spec.acquisition_share,
                    base_rate: spec.base_rate,
                    relative_effect: round6(spec.base_rate / mean_base),
                    return_share: spec.return_share,
                    repeat_purchase_share: spec.repeat_share,
                    mobile_share: spec.devices[1],
                    expected_conversion_rate: round6(channel_conversion(model, c, None)),
                    users: self.channel_users[c.index()],
                    buyers: self.channel_buyers[c.index()],
                }
            })
            .collect();
        ChannelsTruth {
            effect_definition: "A user's purchase probability is base_rate of the channel of \
                                their first session (acquisition channel) times the micro \
                                bracket; later sessions come through the same channel with \
                                probability same_channel_return_probability, else by \
                                return_share. Ranking is by base_rate (equivalently by \
                                expected_conversion_rate); acquisition_share × \
                                expected_conversion_rate, a channel's share of first \
                                purchases, orders the channels differently."
                .to_string(),
            strongest: ranking[0].name().to_string(),
            ranking: ranking.iter().map(|c| c.name().to_string()).collect(),
            same_channel_return_probability: SAME_CHANNEL_RETURN,
            by_channel,
        }
    }

    fn micro_truths(&self, model: &PurchaseModel) -> MicroTruths {
        let effects = MICROS
            .iter()
            .map(|spec| {
                let m = spec.micro.index();
                MicroTruth {
                    name: spec.name.to_string(),
                    definition: spec.definition.to_string(),
                    prevalence: spec.prevalence,
                    email_prevalence: spec.email_prevalence,
                    expected_prevalence: round6(expected_prevalence(spec, model)),
                    planted_risk_ratio: spec.risk_ratio,
                    expected_crude_risk_ratio: round6(crude_risk_ratio(spec, model)),
                    confounded_by: spec
                        .email_prevalence
                        .map(|_| "acquisition channel (email)".to_string()),
                    model_weight: round6(model.weights[m]),
                    exposed_users: self.exposed[m][0],
                    exposed_buyers: self.exposed[m][1],
                    unexposed_users: self.unexposed[m][0],
                    unexposed_buyers: self.unexposed[m][1],
                }
            })
            .collect();
        MicroTruths {
            exposure_definition: "A user is exposed to micro m if they did m before their \
                                  first purchase (buyers) or at any time (non-buyers). Buyers \
                                  also search and read reviews after buying; those events do \
                                  not count."
                .to_string(),
            purchase_model: "P(buy) = base_rate[acquisition channel] * (1 + sum of model_weight \
                             over the micros the user is exposed to); exposures independent \
                             Bernoulli(prevalence), newsletter_signup more likely for users \
                             acquired by email."
                .to_string(),
            max_purchase_probability: round6(model.max_probability()),
            expected_conversion_rate: round6(expected_conversion(model)),
            not_planted: vec![
                "add_to_cart, begin_checkout: funnel steps every buyer passes".to_string(),
                "engaged session (3+ pageviews): no planted effect; buyers' purchase \
                 sessions make it correlate with purchase"
                    .to_string(),
                "device, country: no effect beyond their channel mix".to_string(),
            ],
            effects,
        }
    }

    fn funnel_truth(&self, model: &PurchaseModel) -> FunnelTruth {
        let beta = expected_conversion(model);
        let cart = beta + (1.0 - beta) * NONBUYER_ADD_TO_CART;
        let checkout = beta + (1.0 - beta) * NONBUYER_ADD_TO_CART * NONBUYER_CHECKOUT_GIVEN_CART;
        let expected = [cart, checkout / cart, beta / checkout];
        let rate = |i: usize, r: f64| StepRate {
            from: FUNNEL_STEPS[i].to_string(),
            to: FUNNEL_STEPS[i + 1].to_string(),
            rate: round6(r),
        };
        let realized: Vec<StepRate> = (0..3)
            .map(|i| rate(i, ratio(self.funnel[i + 1], self.funnel[i])))
            .collect();
        let expected_rates: Vec<StepRate> = (0..3).map(|i| rate(i, expected[i])).collect();
        let bottleneck = expected_rates
            .iter()
            .min_by(|a, b| a.rate.total_cmp(&b.rate))
            .cloned()
            .unwrap_or_else(|| rate(1, expected[1]));
        FunnelTruth {
            steps: FUNNEL_STEPS.iter().map(|s| s.to_string()).collect(),
            window_days: FUNNEL_WINDOW_DAYS,
            definition: "User level, ordered: a step counts when it follows the previous step; \
                         every user's steps up to the first purchase lie within 6.5 days of \
                         their first event. Every user views a product; buyers walk all steps \
                         in their last pre-purchase session; non-buyers add to cart and begin \
                         checkout with the planted probabilities."
                .to_string(),
            nonbuyer_add_to_cart_probability: NONBUYER_ADD_TO_CART,
            nonbuyer_checkout_given_cart_probability: NONBUYER_CHECKOUT_GIVEN_CART,
            expected_step_rates: expected_rates,
            step_users: self.funnel.to_vec(),
            step_rates: realized,
            bottleneck,
        }
    }

    fn clv_truth(&self, period: &Period) -> ClvTruth {
        ClvTruth {
            time_unit: "days".to_string(),
            bgnbd: BgNbd {
                r: BGNBD_R,
                alpha: BGNBD_ALPHA,
                a: BGNBD_A,
                b: BGNBD_B,
            },
            gamma_gamma: GammaGamma {
                p: GG_P,
                q: GG_Q,
                gamma: GG_GAMMA,
            },
            first_order_value_lognormal_mu: FIRST_ORDER_MU,
            first_order_value_lognormal_sigma: FIRST_ORDER_SIGMA,
            expected_first_order_value: round6(
                (FIRST_ORDER_MU + FIRST_ORDER_SIGMA * FIRST_ORDER_SIGMA / 2.0).exp(),
            ),
            mean_first_order_value: round6(self.first_order_revenue / self.buyers.max(1) as f64),
            definition: format!(
                "Customers are buyers. From the first purchase until {} (exclusive), \
                 repeat purchases arrive as Poisson(lambda per day), lambda ~ Gamma(r, rate \
                 alpha); after each repeat purchase the customer drops out with probability p ~ \
                 Beta(a, b). Repeat values ~ Gamma(p, rate nu), nu ~ Gamma(q, rate gamma) per \
                 customer; the first order value is lognormal and not part of Gamma-Gamma. \
                 Each purchase is its own session.",
                period.end_exclusive
            ),
            customers: self.buyers,
            repeat_customers: self.repeat_customers,
            repeat_purchases: self.repeat_purchases,
            repeat_purchase_days: self.repeat_days,
            expected_repeat_purchases: round6(self.expected_repeat),
            expected_repeat_value: round6(GG_P * GG_GAMMA / (GG_Q - 1.0)),
            mean_repeat_value: round6(self.repeat_revenue / self.repeat_purchases.max(1) as f64),
            repeat_purchases_shifted: self.shifted,
            repeat_purchases_dropped: self.dropped,
        }
    }

    fn experiment_truth(
        &self,
        model: &PurchaseModel,
        start_day: u32,
        period: &Period,
    ) -> ExperimentTruth {
        let video = &MICROS[Micro::VideoView.index()];
        let control = channel_conversion_mix(model, Arm::Control);
        let treatment = channel_conversion_mix(model, Arm::Treatment);
        let start_ms = period.start_epoch_ms + i64::from(start_day) * DAY_MS;
        ExperimentTruth {
            name: EXPERIMENT.to_string(),
            start_date: date_of(start_ms),
            variants: vec!["control".to_string(), "treatment".to_string()],
            treatment_share: EXPERIMENT_TREATMENT_SHARE,
            assignment: "Users whose first session is on or after start_date are assigned at \
                         that session; experiment and variant are set on all their events."
                .to_string(),
            affected_micro: video.name.to_string(),
            planted_relative_lift: EXPERIMENT_VIDEO_LIFT,
            control_prevalence: video.prevalence,
            treatment_prevalence: round6(video.prevalence * (1.0 + EXPERIMENT_VIDEO_LIFT)),
            expected_purchase_rate_ratio: round6(treatment / control),
            users_control: self.arm_users[Arm::Control as usize],
            users_treatment: self.arm_users[Arm::Treatment as usize],
            exposed_control: self.arm_exposed[Arm::Control as usize],
            exposed_treatment: self.arm_exposed[Arm::Treatment as usize],
            buyers_control: self.arm_buyers[Arm::Control as usize],
            buyers_treatment: self.arm_buyers[Arm::Treatment as usize],
        }
    }
}

/// `event_time` of files with a proper timestamp column.
pub(crate) const TIME_US: &str = "timestamp_us_utc";
pub(crate) const TIME_MS: &str = "int64_epoch_ms";

fn session_truth(count: u64) -> SessionTruth {
    SessionTruth {
        count,
        timeout_minutes: SESSION_TIMEOUT_MINUTES,
        min_gap_between_sessions_minutes: MIN_SESSION_GAP_MS / 60_000,
        max_gap_within_session_seconds: DWELL_MAX_MS / 1000,
        dwell_threshold_seconds: DWELL_THRESHOLD_SECONDS,
        note: "Sessions are split where a user's gap exceeds 30 minutes; because gaps inside \
               sessions are at most 15 minutes and gaps between sessions at least 2 hours, \
               any timeout between 15 and 120 minutes finds the same sessions. Each session \
               has one source/medium/campaign."
            .to_string(),
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Rounds to 6 decimals so the JSON stays readable.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// `YYYY-MM-DD` of an epoch-milliseconds time (UTC).
pub(crate) fn date_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.date_naive().to_string())
        .unwrap_or_default()
}

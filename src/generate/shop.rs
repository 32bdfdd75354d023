//! The simulated shop: one user's whole life, from arrival to the last repeat
//! purchase, drawn from a random generator seeded by (seed, user index).
//!
//! Per user, in this order: acquisition channel, device, country, favourite
//! category, experiment arm, micro-conversion exposures, the purchase
//! decision (see `model.rs`), funnel drop-off, the number of pre-purchase
//! sessions and what each contains, their timing, and for buyers the repeat
//! purchases (BG/NBD) with their values (Gamma-Gamma). Dirt is drawn from a
//! separate stream so a `--dirty` run has exactly the clean rows of a clean run.

use std::ops::Range;

use chrono::{Datelike, NaiveDate, Weekday};
use rand::distributions::{Distribution, WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Exp, Gamma, LogNormal};

use super::event::{Dirt, Event, EventName, CATEGORIES};
use super::model::{
    prevalence, Arm, Channel, Micro, PurchaseModel, CHANNELS, COUNTRIES, DIRT_DUPLICATE,
    DIRT_NULL_USER, DIRT_UNKNOWN, EXPERIMENT_TREATMENT_SHARE, JOURNEY_HORIZON_MS, MICROS,
    MICRO_COUNT, MIN_SESSION_GAP_MS, NONBUYER_ADD_TO_CART, NONBUYER_CHECKOUT_GIVEN_CART,
    SAME_CHANNEL_RETURN, TOUCHES,
};
use super::model::{
    BGNBD_A, BGNBD_ALPHA, BGNBD_B, BGNBD_R, FIRST_ORDER_MU, FIRST_ORDER_SIGMA, GG_GAMMA, GG_P, GG_Q,
};
use super::session::{duration_ms, Cart, SessionPlan, SessionSampler, Step, MAX_SESSION_MS};

pub(crate) const DAY_MS: i64 = 86_400_000;

/// Random streams of one seed; each user (or file) gets its own position.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    Journey = 1,
    Dirt = 2,
    Shuffle = 3,
}

/// A ChaCha generator for `(seed, stream, index)`: independent of the order in
/// which users are processed, so batching never changes the output.
pub(crate) fn stream_rng(seed: u64, stream: Stream, index: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(stream as u64).to_le_bytes());
    key[16..].copy_from_slice(b"microconv-gen-v1");
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(index);
    rng
}

/// Which users arrive on which day. Users are numbered in arrival order, so a
/// day's new users are a contiguous range; weekends bring fewer of them.
pub(crate) struct Calendar {
    first_user: Vec<u64>,
}

impl Calendar {
    pub(crate) fn new(users: u64, days: u32, start: NaiveDate) -> Calendar {
        let weights: Vec<f64> = (0..days)
            .map(
                |d| match (start + chrono::Days::new(u64::from(d))).weekday() {
                    Weekday::Sat => 0.8,
                    Weekday::Sun => 0.9,
                    _ => 1.0,
                },
            )
            .collect();
        let total: f64 = weights.iter().sum();
        let mut first_user = Vec::with_capacity(days as usize + 1);
        let mut cumulative = 0.0;
        for w in &weights {
            first_user.push(((users as f64) * cumulative / total).round() as u64);
            cumulative += w;
        }
        first_user.push(users);
        Calendar { first_user }
    }

    pub(crate) fn users_on(&self, day: u32) -> Range<u64> {
        self.first_user[day as usize]..self.first_user[day as usize + 1]
    }

    /// Users arriving on `day` or later.
    pub(crate) fn users_from(&self, day: u32) -> u64 {
        self.first_user[self.first_user.len() - 1] - self.first_user[day as usize]
    }
}

/// Everything about one user that the ground truth tallies.
#[derive(Debug, Clone)]
pub(crate) struct UserSummary {
    pub channel: Channel,
    pub arm: Arm,
    pub exposed: [bool; MICRO_COUNT],
    pub buyer: bool,
    pub added_to_cart: bool,
    pub began_checkout: bool,
    pub sessions: u32,
    pub first_purchase_ms: Option<i64>,
    pub first_order_value: f64,
    pub repeat_purchases: u32,
    pub repeat_revenue: f64,
    /// Repeat purchases moved later to keep sessions two hours apart.
    pub repeat_shifted: u32,
    /// Repeat purchases lost because the move pushed them past the period end.
    pub repeat_dropped: u32,
    pub duplicates: u32,
    pub null_users: u32,
    pub unknown: u32,
}

/// Fixed, per-run context of the simulation.
pub(crate) struct Shop {
    pub model: PurchaseModel,
    pub calendar: Calendar,
    pub experiment_start_day: u32,
    period_start_ms: i64,
    period_end_ms: i64,
    seed: u64,
    dirty: bool,
    sessions: SessionSampler,
    pick: Pickers,
}

struct Pickers {
    acquisition: WeightedIndex<f64>,
    returning: WeightedIndex<f64>,
    repeat: WeightedIndex<f64>,
    /// Per channel: indices into `TOUCHES` and their weights.
    touches: Vec<(Vec<u8>, WeightedIndex<f64>)>,
    devices: Vec<WeightedIndex<f64>>,
    countries: WeightedIndex<f64>,
    hours: WeightedIndex<f64>,
    extra_sessions: WeightedIndex<f64>,
    between_sessions: Exp<f64>,
    first_order: LogNormal<f64>,
    lambda: Gamma<f64>,
    dropout: Beta<f64>,
    spend_rate: Gamma<f64>,
}

/// Arrivals by hour of day (UTC): quiet nights, busy evenings.
const HOUR_WEIGHTS: [f64; 24] = [
    0.3, 0.2, 0.15, 0.15, 0.2, 0.3, 0.5, 0.8, 1.0, 1.1, 1.2, 1.2, 1.3, 1.3, 1.2, 1.2, 1.3, 1.5,
    1.7, 1.9, 2.0, 1.7, 1.2, 0.6,
];

/// Probability of 0, 1, 2… extra pre-purchase sessions.
const EXTRA_SESSION_WEIGHTS: [f64; 6] = [0.40, 0.28, 0.16, 0.09, 0.05, 0.02];

/// Mean random part of the time between two pre-purchase sessions.
const MEAN_SESSION_GAP_MS: f64 = 18.0 * 3_600_000.0;

impl Pickers {
    fn new() -> Pickers {
        // All weights and parameters are constants: construction cannot fail.
        let weighted = |w: Vec<f64>| WeightedIndex::new(w).expect("valid constant weights");
        let touches = Channel::ALL
            .iter()
            .map(|&c| {
                let idx: Vec<u8> = (0..TOUCHES.len() as u8)
                    .filter(|&i| TOUCHES[usize::from(i)].channel == c)
                    .collect();
                let w = idx
                    .iter()
                    .map(|&i| TOUCHES[usize::from(i)].weight)
                    .collect();
                (idx, weighted(w))
            })
            .collect();
        Pickers {
            acquisition: weighted(CHANNELS.iter().map(|c| c.acquisition_share).collect()),
            returning: weighted(CHANNELS.iter().map(|c| c.return_share).collect()),
            repeat: weighted(CHANNELS.iter().map(|c| c.repeat_share).collect()),
            touches,
            devices: CHANNELS
                .iter()
                .map(|c| weighted(c.devices.to_vec()))
                .collect(),
            countries: weighted(COUNTRIES.iter().map(|c| c.1).collect()),
            hours: weighted(HOUR_WEIGHTS.to_vec()),
            extra_sessions: weighted(EXTRA_SESSION_WEIGHTS.to_vec()),
            between_sessions: Exp::new(1.0 / MEAN_SESSION_GAP_MS).expect("valid rate"),
            first_order: LogNormal::new(FIRST_ORDER_MU, FIRST_ORDER_SIGMA).expect("valid"),
            lambda: Gamma::new(BGNBD_R, 1.0 / BGNBD_ALPHA).expect("valid"),
            dropout: Beta::new(BGNBD_A, BGNBD_B).expect("valid"),
            spend_rate: Gamma::new(GG_Q, 1.0 / GG_GAMMA).expect("valid"),
        }
    }
}

/// Per-user facts that every session of the user shares.
struct Identity {
    user: u64,
    acquisition: Channel,
    device: u8,
    country: u8,
    favourite: u8,
    arm: Arm,
}

/// The user-level decisions everything else follows from.
struct Fate {
    exposed: [bool; MICRO_COUNT],
    buyer: bool,
    added_to_cart: bool,
    began_checkout: bool,
    first_order_value: f64,
}

impl Shop {
    pub(crate) fn new(users: u64, days: u32, start: NaiveDate, seed: u64, dirty: bool) -> Shop {
        let calendar = Calendar::new(users, days, start);
        let experiment_start_day = days / 3;
        let experiment_share = calendar.users_from(experiment_start_day) as f64 / users as f64;
        let period_start_ms = start
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis());
        Shop {
            model: PurchaseModel::solve(experiment_share),
            calendar,
            experiment_start_day,
            period_start_ms,
            period_end_ms: period_start_ms + i64::from(days) * DAY_MS,
            seed,
            dirty,
            sessions: SessionSampler::new(),
            pick: Pickers::new(),
        }
    }

    pub(crate) fn period_start_ms(&self) -> i64 {
        self.period_start_ms
    }

    pub(crate) fn period_end_ms(&self) -> i64 {
        self.period_end_ms
    }

    /// Appends all rows of `user` (who arrives on `day`) to `events`.
    pub(crate) fn simulate_user(
        &self,
        user: u64,
        day: u32,
        events: &mut Vec<Event>,
    ) -> UserSummary {
        let mut rng = stream_rng(self.seed, Stream::Journey, user);
        let first = events.len();
        let who = self.identity(&mut rng, user, day);
        let fate = self.fate(&mut rng, &who);
        let mut seq = 0u32;
        let (sessions, last_end) = self.journey(&mut rng, &who, day, &fate, &mut seq, events);
        let mut summary = UserSummary {
            channel: who.acquisition,
            arm: who.arm,
            exposed: fate.exposed,
            buyer: fate.buyer,
            added_to_cart: fate.added_to_cart,
            began_checkout: fate.began_checkout,
            sessions,
            first_purchase_ms: fate.buyer.then_some(last_end),
            first_order_value: fate.first_order_value,
            repeat_purchases: 0,
            repeat_revenue: 0.0,
            repeat_shifted: 0,
            repeat_dropped: 0,
            duplicates: 0,
            null_users: 0,
            unknown: 0,
        };
        if fate.buyer {
            self.repeat_purchases(&mut rng, &who, last_end, &mut seq, &mut summary, events);
        }
        if self.dirty {
            self.add_dirt(user, first, &mut summary, events);
        }
        summary
    }

    /// Who the user is: acquisition channel, device, country, taste, arm.
    fn identity(&self, rng: &mut ChaCha8Rng, user: u64, day: u32) -> Identity {
        let acquisition = Channel::ALL[self.pick.acquisition.sample(rng)];
        let device = self.pick.devices[acquisition.index()].sample(rng) as u8;
        let country = self.pick.countries.sample(rng) as u8;
        let favourite = rng.gen_range(0..CATEGORIES.len() as u8);
        let arm = if day < self.experiment_start_day {
            Arm::Unassigned
        } else if rng.gen_bool(EXPERIMENT_TREATMENT_SHARE) {
            Arm::Treatment
        } else {
            Arm::Control
        };
        Identity {
            user,
            acquisition,
            device,
            country,
            favourite,
            arm,
        }
    }

    /// What the user will do: exposures, then the purchase decision they
    /// drive, then how far a non-buyer gets in the funnel.
    fn fate(&self, rng: &mut ChaCha8Rng, who: &Identity) -> Fate {
        let mut exposed = [false; MICRO_COUNT];
        for spec in &MICROS {
            exposed[spec.micro.index()] = rng.gen_bool(prevalence(spec, who.acquisition, who.arm));
        }
        let buyer = rng.gen_bool(self.model.purchase_probability(who.acquisition, &exposed));
        let added_to_cart = buyer || rng.gen_bool(NONBUYER_ADD_TO_CART);
        let began_checkout = buyer || (added_to_cart && rng.gen_bool(NONBUYER_CHECKOUT_GIVEN_CART));
        let first_order_value = if buyer {
            cents(self.pick.first_order.sample(rng))
        } else {
            0.0
        };
        Fate {
            exposed,
            buyer,
            added_to_cart,
            began_checkout,
            first_order_value,
        }
    }

    /// The pre-purchase sessions: all within `JOURNEY_HORIZON_MS` of arrival
    /// and before the period ends, at least two hours apart. Returns the
    /// number of sessions and the time of the last event (the first purchase,
    /// for buyers).
    fn journey(
        &self,
        rng: &mut ChaCha8Rng,
        who: &Identity,
        day: u32,
        fate: &Fate,
        seq: &mut u32,
        events: &mut Vec<Event>,
    ) -> (u32, i64) {
        let mut arrival = self.period_start_ms
            + i64::from(day) * DAY_MS
            + self.pick.hours.sample(rng) as i64 * 3_600_000
            + rng.gen_range(0..3_600_000);
        let horizon = (arrival + JOURNEY_HORIZON_MS).min(self.period_end_ms - 1_000);
        let drawn = 1 + self.pick.extra_sessions.sample(rng);
        let fits = 1
            + ((horizon - arrival - MAX_SESSION_MS).max(0) / (MAX_SESSION_MS + MIN_SESSION_GAP_MS))
                as usize;
        let n = drawn.min(fits);

        let plans = self.plan_sessions(rng, n, fate);
        let mut sessions: Vec<(u8, Vec<Step>)> = Vec::with_capacity(n);
        for (k, plan) in plans.iter().enumerate() {
            let channel = if k == 0 || rng.gen_bool(SAME_CHANNEL_RETURN) {
                who.acquisition
            } else {
                Channel::ALL[self.pick.returning.sample(rng)]
            };
            let touch = self.touch(rng, channel);
            let mut steps = Vec::new();
            self.sessions
                .build_session(rng, channel, who.favourite, plan, &mut steps);
            sessions.push((touch, steps));
        }

        let durations: Vec<i64> = sessions.iter().map(|s| duration_ms(&s.1)).collect();
        if arrival + durations[0] > horizon {
            // A late arrival on the last day: start earlier, same day.
            arrival = horizon - durations[0];
        }
        let busy: i64 = durations.iter().sum::<i64>() + (n as i64 - 1) * MIN_SESSION_GAP_MS;
        let slack = (horizon - arrival - busy).max(0) as f64;
        let mut waits: Vec<f64> = (1..n)
            .map(|_| self.pick.between_sessions.sample(rng))
            .collect();
        let total_wait: f64 = waits.iter().sum();
        if total_wait > slack {
            waits.iter_mut().for_each(|w| *w *= slack / total_wait);
        }
        let mut last_end = arrival;
        for (k, (touch, steps)) in sessions.iter().enumerate() {
            let start = match k {
                0 => arrival,
                _ => last_end + MIN_SESSION_GAP_MS + waits[k - 1] as i64,
            };
            last_end = self.emit(who, *touch, start, steps, seq, events);
        }
        (n as u32, last_end)
    }

    /// Decides which pre-purchase session holds each planted action.
    fn plan_sessions(&self, rng: &mut ChaCha8Rng, n: usize, fate: &Fate) -> Vec<SessionPlan> {
        let mut plans = vec![SessionPlan::default(); n];
        for micro in Micro::ALL {
            if !fate.exposed[micro.index()] {
                continue;
            }
            let first = rng.gen_range(0..n);
            // Browsing micros may repeat in other sessions; sign-ups happen once.
            let repeats = matches!(micro, Micro::Search | Micro::ReviewRead | Micro::VideoView);
            for (k, plan) in plans.iter_mut().enumerate() {
                let here = k == first || (repeats && rng.gen_bool(0.2));
                if !here {
                    continue;
                }
                match micro {
                    Micro::Search => plan.search = true,
                    Micro::ReviewRead => plan.review = true,
                    Micro::VideoView => plan.video = true,
                    Micro::Wishlist => plan.wishlist = true,
                    Micro::NewsletterSignup => plan.newsletter = true,
                    Micro::SignUp => plan.signup = true,
                    Micro::Dwell => plan.dwell = true,
                }
            }
        }
        if fate.buyer {
            plans[n - 1].cart = Cart::Purchase {
                revenue: fate.first_order_value,
            };
        } else if fate.added_to_cart {
            let k = rng.gen_range(0..n);
            plans[k].cart = Cart::Abandon {
                checkout: fate.began_checkout,
            };
        }
        for plan in plans.iter_mut() {
            let bounce = !plan.needs_product_view() && rng.gen_bool(0.3);
            plan.product_views = if bounce {
                0
            } else {
                1 + u8::from(rng.gen_bool(0.55))
                    + u8::from(rng.gen_bool(0.35))
                    + u8::from(rng.gen_bool(0.2))
                    + 2 * u8::from(rng.gen_bool(0.05))
            };
        }
        // Every user views at least one product (the funnel's first step).
        if plans.iter().all(|p| p.product_views == 0) {
            plans[0].product_views = 1;
        }
        plans
    }

    /// BG/NBD repeat purchases from the first purchase to the end of the period.
    fn repeat_purchases(
        &self,
        rng: &mut ChaCha8Rng,
        who: &Identity,
        first_purchase: i64,
        seq: &mut u32,
        summary: &mut UserSummary,
        events: &mut Vec<Event>,
    ) {
        let lambda = self.pick.lambda.sample(rng);
        let dropout = self.pick.dropout.sample(rng);
        let spend_rate = self.pick.spend_rate.sample(rng);
        let (Ok(wait), Ok(spend)) = (Exp::new(lambda), Gamma::new(GG_P, 1.0 / spend_rate)) else {
            return; // λ or ν underflowed to zero: this customer never buys again
        };
        let mut at = first_purchase;
        let mut last_end = first_purchase;
        let mut steps = Vec::new();
        loop {
            let gap_days: f64 = wait.sample(rng);
            if gap_days >= (self.period_end_ms - at) as f64 / DAY_MS as f64 {
                return;
            }
            at += (gap_days * DAY_MS as f64) as i64;
            let channel = Channel::ALL[self.pick.repeat.sample(rng)];
            let touch = self.touch(rng, channel);
            let value = cents(spend.sample(rng));
            self.sessions
                .build_repeat_session(rng, channel, who.favourite, value, &mut steps);
            let length = duration_ms(&steps);
            let mut start = at - length;
            if start < last_end + MIN_SESSION_GAP_MS {
                start = last_end + MIN_SESSION_GAP_MS + 60_000;
                summary.repeat_shifted += 1;
            }
            if start + length >= self.period_end_ms {
                summary.repeat_dropped += 1;
                return;
            }
            last_end = self.emit(who, touch, start, &steps, seq, events);
            summary.sessions += 1;
            summary.repeat_purchases += 1;
            summary.repeat_revenue += value;
            if rng.gen_bool(dropout) {
                return;
            }
        }
    }

    /// Picks a traffic source of `channel`.
    fn touch(&self, rng: &mut ChaCha8Rng, channel: Channel) -> u8 {
        let (idx, weights) = &self.pick.touches[channel.index()];
        idx[weights.sample(rng)]
    }

    /// Writes a session's steps as events from `start`; returns the last event's time.
    fn emit(
        &self,
        who: &Identity,
        touch: u8,
        start: i64,
        steps: &[Step],
        seq: &mut u32,
        events: &mut Vec<Event>,
    ) -> i64 {
        debug_assert!(duration_ms(steps) <= MAX_SESSION_MS);
        let mut t = start;
        let mut last = start;
        for step in steps {
            last = t;
            events.push(Event {
                time_ms: t,
                user: who.user,
                revenue: step.revenue,
                seq: *seq,
                product: step.product,
                name: step.name,
                page: step.page,
                touch,
                device: who.device,
                country: who.country,
                arm: who.arm,
                dirt: Dirt::Clean,
            });
            *seq += 1;
            t += step.gap_after_ms;
        }
        last
    }

    /// Adds the planted dirt for the user's clean rows `events[first..]`.
    fn add_dirt(
        &self,
        user: u64,
        first: usize,
        summary: &mut UserSummary,
        events: &mut Vec<Event>,
    ) {
        let mut rng = stream_rng(self.seed, Stream::Dirt, user);
        let mut dirt_seq = 0u32;
        let clean = events.len();
        for i in first..clean {
            let ev = events[i];
            let duplicate = rng.gen_bool(DIRT_DUPLICATE);
            let null_user = rng.gen_bool(DIRT_NULL_USER);
            let unknown = rng.gen_bool(DIRT_UNKNOWN);
            if duplicate {
                events.push(Event {
                    dirt: Dirt::Duplicate,
                    ..ev
                });
                summary.duplicates += 1;
            }
            if null_user {
                events.push(Event {
                    dirt: Dirt::NullUser,
                    seq: dirt_seq,
                    ..ev
                });
                dirt_seq += 1;
                summary.null_users += 1;
            }
            // Never at a product view's time, so dwell gaps stay as planted.
            if unknown && ev.name != EventName::ProductView {
                events.push(Event {
                    dirt: Dirt::Unknown,
                    seq: dirt_seq,
                    name: EventName::DebugPing,
                    revenue: None,
                    ..ev
                });
                dirt_seq += 1;
                summary.unknown += 1;
            }
        }
    }
}

/// Rounds money to cents, at least one cent.
fn cents(value: f64) -> f64 {
    ((value * 100.0).round() / 100.0).max(0.01)
}

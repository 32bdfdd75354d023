//! What happens inside one session: the ordered steps (event, page, product)
//! and the gaps between them.
//!
//! The gaps are where the session rules are planted: every gap is shorter
//! than `MAX_NORMAL_GAP_MS` (170 s), except the reading time after a blog
//! landing page (which is not a product page) and the single planted dwell gap
//! (185–900 s after a `product_view`). So a `product_view` is followed by
//! 180 s or more only for users planted with the dwell micro, and no gap comes
//! near the 30-minute session timeout.

use rand::distributions::Distribution;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp, Zipf};

use super::event::{product_category, product_id, EventName, Page, BLOG_POSTS, CATEGORIES};
use super::model::{Channel, DWELL_MAX_MS, DWELL_MIN_MS, MAX_NORMAL_GAP_MS};

/// An upper bound on any session's duration (first to last event); the
/// worst case of `build_session` is about 2.2 h.
pub(crate) const MAX_SESSION_MS: i64 = 4 * 3_600_000;

/// One event of a session before it gets a time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub name: EventName,
    pub page: Page,
    pub product: u32,
    pub revenue: Option<f64>,
    /// Time until the next step of the session (ignored for the last step).
    pub gap_after_ms: i64,
}

/// What the cart does in a session.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) enum Cart {
    #[default]
    None,
    /// add_to_cart, and begin_checkout when `checkout`, but no purchase.
    Abandon { checkout: bool },
    /// The whole funnel, ending with the purchase (the session's last event).
    Purchase { revenue: f64 },
}

/// The planned content of one pre-purchase session.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SessionPlan {
    pub product_views: u8,
    pub search: bool,
    pub review: bool,
    pub video: bool,
    pub wishlist: bool,
    pub newsletter: bool,
    pub signup: bool,
    pub dwell: bool,
    pub cart: Cart,
}

impl SessionPlan {
    /// Whether the plan needs at least one product page to hang its events on.
    pub(crate) fn needs_product_view(&self) -> bool {
        self.review || self.video || self.wishlist || self.dwell || self.cart != Cart::None
    }
}

/// Random choices shared by all sessions: product popularity and gap lengths.
pub(crate) struct SessionSampler {
    popularity: Zipf<f64>,
    normal_gap: Exp<f64>,
    reading_gap: Exp<f64>,
}

impl SessionSampler {
    pub(crate) fn new() -> SessionSampler {
        SessionSampler {
            // Valid constant parameters: these constructors cannot fail.
            popularity: Zipf::new(u64::from(super::event::PRODUCTS_PER_CATEGORY), 1.1)
                .expect("valid Zipf parameters"),
            normal_gap: Exp::new(1.0 / 35_000.0).expect("valid rate"),
            reading_gap: Exp::new(1.0 / 150_000.0).expect("valid rate"),
        }
    }

    /// Steps of a pre-purchase session, appended to `steps` (cleared first).
    pub(crate) fn build_session(
        &self,
        rng: &mut ChaCha8Rng,
        channel: Channel,
        favourite: u8,
        plan: &SessionPlan,
        steps: &mut Vec<Step>,
    ) {
        steps.clear();
        let landing = landing_page(rng, channel, favourite);
        self.push(rng, steps, EventName::PageView, landing, 0, None);
        if plan.newsletter {
            self.push(rng, steps, EventName::NewsletterSignup, landing, 0, None);
        }
        if plan.search {
            self.push(rng, steps, EventName::Search, Page::Search, 0, None);
        }
        let views = plan.product_views;
        let host = |rng: &mut ChaCha8Rng, wanted: bool| {
            (wanted && views > 0).then(|| rng.gen_range(0..views))
        };
        let video_at = host(rng, plan.video);
        let review_at = host(rng, plan.review);
        let wishlist_at = host(rng, plan.wishlist);
        let mut product = 0;
        for i in 0..views {
            if i > 0 && rng.gen_bool(0.3) {
                let category = self.category(rng, favourite);
                self.push(
                    rng,
                    steps,
                    EventName::PageView,
                    Page::Category(category),
                    0,
                    None,
                );
            }
            product = self.product(rng, favourite);
            self.push(
                rng,
                steps,
                EventName::ProductView,
                Page::Product,
                product,
                None,
            );
            if video_at == Some(i) {
                self.push(
                    rng,
                    steps,
                    EventName::ProductVideoView,
                    Page::Product,
                    product,
                    None,
                );
            }
            if review_at == Some(i) {
                self.push(
                    rng,
                    steps,
                    EventName::ReviewRead,
                    Page::Reviews,
                    product,
                    None,
                );
            }
            if wishlist_at == Some(i) {
                self.push(
                    rng,
                    steps,
                    EventName::AddToWishlist,
                    Page::Product,
                    product,
                    None,
                );
            }
        }
        if plan.signup {
            self.push(rng, steps, EventName::PageView, Page::Signup, 0, None);
            self.push(rng, steps, EventName::SignUp, Page::Signup, 0, None);
        }
        match plan.cart {
            Cart::None => {}
            Cart::Abandon { checkout } => {
                self.push(
                    rng,
                    steps,
                    EventName::AddToCart,
                    Page::Product,
                    product,
                    None,
                );
                if rng.gen_bool(0.5) {
                    self.push(rng, steps, EventName::PageView, Page::Cart, 0, None);
                }
                if checkout {
                    self.push(
                        rng,
                        steps,
                        EventName::BeginCheckout,
                        Page::Checkout,
                        0,
                        None,
                    );
                }
            }
            Cart::Purchase { revenue } => {
                self.checkout(rng, steps, product, revenue);
            }
        }
        if plan.dwell {
            self.plant_dwell(rng, steps);
        }
    }

    /// Steps of a repeat-purchase session: browse a little, then buy.
    /// Post-purchase micros (search, review_read) appear here on purpose: an
    /// analysis must ignore them because they come after the first purchase.
    pub(crate) fn build_repeat_session(
        &self,
        rng: &mut ChaCha8Rng,
        channel: Channel,
        favourite: u8,
        revenue: f64,
        steps: &mut Vec<Step>,
    ) {
        steps.clear();
        if rng.gen_bool(0.6) {
            let landing = landing_page(rng, channel, favourite);
            self.push(rng, steps, EventName::PageView, landing, 0, None);
        }
        if rng.gen_bool(0.25) {
            self.push(rng, steps, EventName::Search, Page::Search, 0, None);
        }
        let views = 1 + u8::from(rng.gen_bool(0.4)) + u8::from(rng.gen_bool(0.15));
        let mut product = 0;
        for _ in 0..views {
            product = self.product(rng, favourite);
            self.push(
                rng,
                steps,
                EventName::ProductView,
                Page::Product,
                product,
                None,
            );
            if rng.gen_bool(0.1) {
                self.push(
                    rng,
                    steps,
                    EventName::ReviewRead,
                    Page::Reviews,
                    product,
                    None,
                );
            }
        }
        self.checkout(rng, steps, product, revenue);
    }

    fn checkout(&self, rng: &mut ChaCha8Rng, steps: &mut Vec<Step>, product: u32, revenue: f64) {
        self.push(
            rng,
            steps,
            EventName::AddToCart,
            Page::Product,
            product,
            None,
        );
        self.push(rng, steps, EventName::PageView, Page::Cart, 0, None);
        self.push(
            rng,
            steps,
            EventName::BeginCheckout,
            Page::Checkout,
            0,
            None,
        );
        let revenue = Some(revenue);
        self.push(
            rng,
            steps,
            EventName::Purchase,
            Page::Confirmation,
            product,
            revenue,
        );
    }

    /// Gives one `product_view` that has a next step a dwell gap.
    fn plant_dwell(&self, rng: &mut ChaCha8Rng, steps: &mut Vec<Step>) {
        let is_candidate = |steps: &[Step], i: usize| {
            steps[i].name == EventName::ProductView && i + 1 < steps.len()
        };
        if !(0..steps.len()).any(|i| is_candidate(steps, i)) {
            // The only product view ends the session: the user moves on to a
            // category page after a long look.
            let last = steps.iter().rposition(|s| s.name == EventName::ProductView);
            let category = last.map_or(0, |i| product_category(steps[i].product));
            self.push(
                rng,
                steps,
                EventName::PageView,
                Page::Category(category),
                0,
                None,
            );
        }
        let candidates: Vec<usize> = (0..steps.len())
            .filter(|&i| is_candidate(steps, i))
            .collect();
        if candidates.is_empty() {
            return; // unreachable: the plan guarantees a product view
        }
        let chosen = candidates[rng.gen_range(0..candidates.len())];
        steps[chosen].gap_after_ms = rng.gen_range(DWELL_MIN_MS..=DWELL_MAX_MS);
    }

    /// Appends a step; its gap to the next step depends on the page.
    fn push(
        &self,
        rng: &mut ChaCha8Rng,
        steps: &mut Vec<Step>,
        name: EventName,
        page: Page,
        product: u32,
        revenue: Option<f64>,
    ) {
        let gap = match (name, page) {
            (EventName::PageView, Page::Blog(_)) => {
                30_000 + (self.reading_gap.sample(rng) as i64).min(570_000)
            }
            _ => (4_000 + self.normal_gap.sample(rng) as i64).min(MAX_NORMAL_GAP_MS),
        };
        steps.push(Step {
            name,
            page,
            product,
            revenue,
            gap_after_ms: gap,
        });
    }

    fn category(&self, rng: &mut ChaCha8Rng, favourite: u8) -> u8 {
        if rng.gen_bool(0.7) {
            favourite
        } else {
            rng.gen_range(0..CATEGORIES.len() as u8)
        }
    }

    fn product(&self, rng: &mut ChaCha8Rng, favourite: u8) -> u32 {
        let category = self.category(rng, favourite);
        let rank = self.popularity.sample(rng) as u32 - 1;
        product_id(category, rank)
    }
}

/// Session duration: the sum of the gaps between its steps.
pub(crate) fn duration_ms(steps: &[Step]) -> i64 {
    let n = steps.len();
    steps
        .iter()
        .take(n.saturating_sub(1))
        .map(|s| s.gap_after_ms)
        .sum()
}

/// Where a session through `channel` lands.
fn landing_page(rng: &mut ChaCha8Rng, channel: Channel, favourite: u8) -> Page {
    let (blog, category) = match channel {
        Channel::Organic => (0.55, 0.30),
        Channel::Referral => (0.50, 0.30),
        Channel::PaidSearch => (0.0, 0.80),
        Channel::PaidSocial => (0.0, 0.50),
        Channel::Email => (0.0, 0.60),
        Channel::Direct => (0.0, 0.15),
    };
    let u: f64 = rng.gen();
    if u < blog {
        Page::Blog(rng.gen_range(0..BLOG_POSTS.len() as u8))
    } else if u < blog + category {
        Page::Category(favourite)
    } else {
        Page::Home
    }
}

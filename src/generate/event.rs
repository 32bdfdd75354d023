//! The generator's compact in-memory event, and how each field is rendered
//! into the canonical event columns.
//!
//! Events are held in memory only until their day is written, so they are kept
//! small (about 48 bytes): strings are indices into static tables and are
//! formatted only when a record batch is built.

use std::fmt::Write as _;

use super::model::{Arm, DEVICES, EXPERIMENT, TOUCHES, UNKNOWN_EVENT_NAME};

/// Event names the generator writes (the conversion catalog matches them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EventName {
    PageView,
    ProductView,
    Search,
    ReviewRead,
    ProductVideoView,
    AddToWishlist,
    NewsletterSignup,
    SignUp,
    AddToCart,
    BeginCheckout,
    Purchase,
    /// Dirt: an event name no catalog knows.
    DebugPing,
}

impl EventName {
    pub(crate) const ALL: [EventName; 12] = [
        EventName::PageView,
        EventName::ProductView,
        EventName::Search,
        EventName::ReviewRead,
        EventName::ProductVideoView,
        EventName::AddToWishlist,
        EventName::NewsletterSignup,
        EventName::SignUp,
        EventName::AddToCart,
        EventName::BeginCheckout,
        EventName::Purchase,
        EventName::DebugPing,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventName::PageView => "page_view",
            EventName::ProductView => "product_view",
            EventName::Search => "search",
            EventName::ReviewRead => "review_read",
            EventName::ProductVideoView => "product_video_view",
            EventName::AddToWishlist => "add_to_wishlist",
            EventName::NewsletterSignup => "newsletter_signup",
            EventName::SignUp => "sign_up",
            EventName::AddToCart => "add_to_cart",
            EventName::BeginCheckout => "begin_checkout",
            EventName::Purchase => "purchase",
            EventName::DebugPing => UNKNOWN_EVENT_NAME,
        }
    }
}

/// Product categories; a product's category is fixed by its id.
pub(crate) const CATEGORIES: [&str; 6] = [
    "shoes",
    "apparel",
    "accessories",
    "outdoor",
    "running",
    "kids",
];

/// Products are `P1000`.. with `PRODUCTS_PER_CATEGORY` per category.
pub(crate) const FIRST_PRODUCT: u32 = 1000;
pub(crate) const PRODUCTS_PER_CATEGORY: u32 = 60;

pub(crate) const BLOG_POSTS: [&str; 6] = [
    "how-to-choose-running-shoes",
    "trail-vs-road",
    "sizing-guide",
    "care-tips",
    "best-gifts",
    "marathon-training-plan",
];

/// The product with the given rank (0-based) in a category.
pub(crate) fn product_id(category: u8, rank: u32) -> u32 {
    FIRST_PRODUCT + rank * CATEGORIES.len() as u32 + u32::from(category)
}

pub(crate) fn product_category(product: u32) -> u8 {
    ((product - FIRST_PRODUCT) % CATEGORIES.len() as u32) as u8
}

/// The page an event happened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    Home,
    Category(u8),
    Blog(u8),
    /// `/product/P…` of the event's product.
    Product,
    /// `/product/P…#reviews` of the event's product.
    Reviews,
    Search,
    Signup,
    Cart,
    Checkout,
    Confirmation,
}

/// Why a row exists: a clean event or one of the planted kinds of dirt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Dirt {
    Clean,
    /// An exact copy of a clean row (same event_id).
    Duplicate,
    /// A copy of a clean row with its own event_id and a null user_id.
    NullUser,
    /// A `debug_ping` at the time of one of the user's clean events.
    Unknown,
}

/// One event row, compact. `seq` numbers a user's clean events; dirt rows
/// that are not exact duplicates number their own sequence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event {
    pub time_ms: i64,
    pub user: u64,
    pub revenue: Option<f64>,
    pub seq: u32,
    /// 0 when the event has no product.
    pub product: u32,
    pub name: EventName,
    pub page: Page,
    /// Index into `TOUCHES`.
    pub touch: u8,
    pub device: u8,
    pub country: u8,
    pub arm: Arm,
    pub dirt: Dirt,
}

impl Event {
    /// The sort key of rows inside a day: time, then user and sequence, so
    /// equal timestamps still have one deterministic order.
    pub(crate) fn sort_key(&self) -> (i64, u64, Dirt, u32) {
        (self.time_ms, self.user, self.dirt, self.seq)
    }

    pub(crate) fn write_event_id(&self, buf: &mut String) {
        buf.clear();
        let prefix = match self.dirt {
            Dirt::Clean | Dirt::Duplicate => 'e',
            Dirt::NullUser | Dirt::Unknown => 'x',
        };
        // Writing to a String cannot fail.
        let _ = write!(buf, "{prefix}{:08x}{:05x}", self.user, self.seq);
    }

    /// `None` for the null-user dirt rows.
    pub(crate) fn write_user_id(&self, buf: &mut String) -> bool {
        buf.clear();
        if self.dirt == Dirt::NullUser {
            return false;
        }
        let _ = write!(buf, "{}", user_id(self.user));
        true
    }

    pub(crate) fn write_page(&self, buf: &mut String) {
        buf.clear();
        let _ = match self.page {
            Page::Home => write!(buf, "/"),
            Page::Category(c) => write!(buf, "/category/{}", CATEGORIES[usize::from(c)]),
            Page::Blog(b) => write!(buf, "/blog/{}", BLOG_POSTS[usize::from(b)]),
            Page::Product => write!(buf, "/product/P{}", self.product),
            Page::Reviews => write!(buf, "/product/P{}#reviews", self.product),
            Page::Search => write!(buf, "/search"),
            Page::Signup => write!(buf, "/account/signup"),
            Page::Cart => write!(buf, "/cart"),
            Page::Checkout => write!(buf, "/checkout"),
            Page::Confirmation => write!(buf, "/checkout/confirmation"),
        };
    }

    pub(crate) fn write_product_id(&self, buf: &mut String) -> bool {
        buf.clear();
        if self.product == 0 {
            return false;
        }
        let _ = write!(buf, "P{}", self.product);
        true
    }

    pub(crate) fn category(&self) -> Option<&'static str> {
        if self.product != 0 {
            return Some(CATEGORIES[usize::from(product_category(self.product))]);
        }
        match self.page {
            Page::Category(c) => Some(CATEGORIES[usize::from(c)]),
            _ => None,
        }
    }

    pub(crate) fn source(&self) -> &'static str {
        TOUCHES[usize::from(self.touch)].source
    }

    pub(crate) fn medium(&self) -> &'static str {
        TOUCHES[usize::from(self.touch)].medium
    }

    pub(crate) fn campaign(&self) -> Option<&'static str> {
        TOUCHES[usize::from(self.touch)].campaign
    }

    pub(crate) fn device(&self) -> &'static str {
        DEVICES[usize::from(self.device)]
    }

    pub(crate) fn experiment(&self) -> Option<&'static str> {
        self.arm.variant().map(|_| EXPERIMENT)
    }
}

/// The user_id written for user index `user`.
pub(crate) fn user_id(user: u64) -> String {
    format!("u{user:08}")
}

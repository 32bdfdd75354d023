//! `[input] preset`: the column mapping of a vendor's export, so that its
//! tables map onto the canonical events with no further config. Each entry
//! is a canonical column and where it comes from, in the notation of
//! `[input.columns]` (see `input::source_path`: columns, nested paths,
//! `param:<key>`, `'constants'`, alternatives separated by `|`). A canonical
//! column a preset does not name is read from the column of its own name,
//! if any; `[input.columns]` overrides any entry.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Google Analytics 4's BigQuery export (`events_YYYYMMDD`, as Parquet
    /// or JSON).
    Ga4,
    /// Segment's warehouse `tracks` and `pages` tables.
    Segment,
    /// Snowplow's `atomic.events`.
    Snowplow,
}

impl Preset {
    /// (canonical column, source) pairs.
    pub fn mapping(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Preset::Ga4 => &[
                ("user_id", "user_pseudo_id"),
                ("event_time", "event_timestamp"),
                ("event_name", "event_name"),
                // a per-user counter: sessions are keyed by user and id
                ("session_id", "param:ga_session_id"),
                ("page", "param:page_location"),
                (
                    "source",
                    "collected_traffic_source.manual_source | param:source | traffic_source.source",
                ),
                (
                    "medium",
                    "collected_traffic_source.manual_medium | param:medium | traffic_source.medium",
                ),
                (
                    "campaign",
                    "collected_traffic_source.manual_campaign_name | param:campaign | traffic_source.name",
                ),
                ("device", "device.category"),
                ("country", "geo.country"),
                ("revenue", "ecommerce.purchase_revenue"),
                ("product_id", "items[1].item_id"),
                ("category", "items[1].item_category"),
            ],
            Preset::Segment => &[
                ("event_id", "id | message_id"),
                ("user_id", "anonymous_id"),
                ("event_time", "timestamp"),
                // `pages` has no `event` column: its rows are page views
                ("event_name", "event | 'page_view'"),
                ("page", "context_page_path | path"),
                ("source", "context_campaign_source"),
                ("medium", "context_campaign_medium"),
                ("campaign", "context_campaign_name"),
                ("device", "context_device_type"),
                ("country", "context_location_country"),
                ("revenue", "revenue"),
            ],
            Preset::Snowplow => &[
                ("event_id", "event_id"),
                ("user_id", "domain_userid"),
                ("event_time", "derived_tstamp | collector_tstamp"),
                ("event_name", "event_name"),
                ("session_id", "domain_sessionid"),
                ("page", "page_urlpath"),
                ("source", "mkt_source"),
                ("medium", "mkt_medium"),
                ("campaign", "mkt_campaign"),
                ("device", "dvce_type"),
                ("country", "geo_country"),
                ("revenue", "tr_total"),
            ],
        }
    }

    /// Where the login id (for `[identity] stitch`) comes from.
    pub fn login(self) -> Option<&'static str> {
        match self {
            Preset::Ga4 | Preset::Segment | Preset::Snowplow => Some("user_id"),
        }
    }

    /// Where `canonical` comes from under this preset, if it says.
    pub fn source_of(self, canonical: &str) -> Option<&'static str> {
        self.mapping()
            .iter()
            .find(|(c, _)| *c == canonical)
            .map(|(_, s)| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_maps_canonical_columns_only_and_the_required_ones() {
        for preset in [Preset::Ga4, Preset::Segment, Preset::Snowplow] {
            for (canonical, _) in preset.mapping() {
                assert!(
                    crate::schema::column(canonical).is_some(),
                    "{preset:?}: {canonical}"
                );
            }
            for required in ["user_id", "event_time", "event_name"] {
                assert!(
                    preset.source_of(required).is_some(),
                    "{preset:?}: {required}"
                );
            }
        }
    }
}

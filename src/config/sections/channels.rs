//! `[[channels]]`: rules that derive `channel` from source and medium where
//! the input has none. First match wins; no rules means the defaults.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRuleConfig {
    pub name: String,
    pub when: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRule {
    pub name: String,
    pub when: String,
}

/// The configured rules, or the built-in ones when there are none.
pub fn validate(list: &[ChannelRuleConfig]) -> Vec<ChannelRule> {
    if list.is_empty() {
        return default_rules();
    }
    list.iter()
        .map(|c| ChannelRule {
            name: c.name.clone(),
            when: c.when.clone(),
        })
        .collect()
}

/// The built-in channel rules (first match wins).
pub fn default_rules() -> Vec<ChannelRule> {
    let rules: [(&str, &str); 7] = [
        ("paid_social", "lower(medium) IN ('paid_social', 'paidsocial', 'social_paid', 'cpc_social')"),
        ("paid_search", "lower(medium) IN ('cpc', 'ppc', 'paidsearch', 'paid_search')"),
        ("email", "lower(medium) IN ('email', 'e-mail', 'newsletter')"),
        ("organic", "lower(medium) IN ('organic', 'organic_search')"),
        ("organic_social", "lower(medium) IN ('social', 'organic_social')"),
        ("referral", "lower(medium) = 'referral'"),
        (
            "direct",
            "(source IS NULL OR source IN ('(direct)', 'direct')) AND (medium IS NULL OR medium IN ('(none)', '(not set)', 'none'))",
        ),
    ];
    rules
        .iter()
        .map(|(n, w)| ChannelRule {
            name: n.to_string(),
            when: w.to_string(),
        })
        .collect()
}

//! The canonical `events` schema: the contract between the input layer and
//! every query. Queries only ever read these names.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// What a canonical column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Time,
    Number,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn col(name: &'static str, kind: Kind, required: bool) -> Column {
    Column {
        name,
        kind,
        required,
    }
}

/// The canonical columns, in output order.
pub const COLUMNS: &[Column] = &[
    col("event_id", Kind::Text, false),
    col("user_id", Kind::Text, true),
    col("event_time", Kind::Time, true),
    col("event_name", Kind::Text, true),
    col("session_id", Kind::Text, false),
    col("channel", Kind::Text, false),
    col("source", Kind::Text, false),
    col("medium", Kind::Text, false),
    col("campaign", Kind::Text, false),
    col("device", Kind::Text, false),
    col("country", Kind::Text, false),
    col("page", Kind::Text, false),
    col("product_id", Kind::Text, false),
    col("category", Kind::Text, false),
    col("revenue", Kind::Number, false),
    col("experiment", Kind::Text, false),
    col("variant", Kind::Text, false),
];

pub const UTC: &str = "UTC";

/// The Arrow type of a canonical timestamp: microseconds, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
}

impl Kind {
    pub fn data_type(self) -> DataType {
        match self {
            Kind::Text => DataType::Utf8,
            Kind::Time => timestamp_type(),
            Kind::Number => DataType::Float64,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Time => "a timestamp, epoch integer or ISO-8601 text",
            Kind::Number => "a number",
        }
    }
}

pub fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}

/// The canonical `events` Arrow schema.
pub fn events_schema() -> SchemaRef {
    Arc::new(Schema::new(
        COLUMNS
            .iter()
            .map(|c| {
                // revenue is filled with 0 when absent, so never null
                let nullable = !(c.required || c.name == "revenue" || c.name == "event_id");
                Field::new(c.name, c.kind.data_type(), nullable)
            })
            .collect::<Vec<_>>(),
    ))
}

//! Reading the attribution cost file (Parquet, or CSV with a header row):
//! the only data file the catalog reads besides the events.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::{cast_with_options, CastOptions};
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Float64Type, Schema};

use crate::config::sections::attribution::{check_cost, CostRow};
use crate::error::{Error, Result};

/// Read a cost file (Parquet, or CSV with a header row) with columns `day`,
/// `channel`, `cost` and optionally `campaign`.
pub fn read_cost_file(path: &Path) -> Result<Vec<CostRow>> {
    let key = "attribution.cost_file";
    let fail = |m: String| Error::setting(key, format!("{}: {m}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let is_csv = path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("csv"));
    let batches: Vec<RecordBatch> = if is_csv {
        read_csv(file).map_err(fail)?
    } else {
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| fail(e.to_string()))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| fail(e.to_string()))?
    };
    let mut rows = Vec::new();
    for batch in &batches {
        cost_rows(batch, &mut rows).map_err(fail)?;
    }
    for (i, r) in rows.iter().enumerate() {
        check_cost(key, &r.channel, r.cost).map_err(|e| fail(format!("row {}: {e}", i + 1)))?;
    }
    Ok(rows)
}

/// Every CSV column as text; types are fixed by [`cost_rows`].
fn read_csv(file: std::fs::File) -> std::result::Result<Vec<RecordBatch>, String> {
    use std::io::{BufRead, BufReader, Seek};
    let mut reader = BufReader::new(file);
    let mut header = String::new();
    reader.read_line(&mut header).map_err(|e| e.to_string())?;
    let fields: Vec<Field> = header
        .trim_end_matches(['\r', '\n'])
        .split(',')
        .map(|h| Field::new(h.trim().trim_matches('"'), DataType::Utf8, true))
        .collect();
    let mut file = reader.into_inner();
    file.rewind().map_err(|e| e.to_string())?;
    datafusion::arrow::csv::ReaderBuilder::new(Arc::new(Schema::new(fields)))
        .with_header(true)
        .build(file)
        .map_err(|e| e.to_string())?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a ArrayRef> {
    let schema = batch.schema();
    let idx = schema
        .fields()
        .iter()
        .position(|f| f.name().eq_ignore_ascii_case(name))?;
    Some(batch.column(idx))
}

fn as_type(array: &ArrayRef, to: &DataType, name: &str) -> std::result::Result<ArrayRef, String> {
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    cast_with_options(array, to, &options)
        .map_err(|e| format!("column `{name}` cannot be read as {to}: {e}"))
}

fn cost_rows(batch: &RecordBatch, out: &mut Vec<CostRow>) -> std::result::Result<(), String> {
    let need = |name: &str| column(batch, name).ok_or_else(|| format!("no column `{name}`"));
    let day = as_type(need("day")?, &DataType::Date32, "day")?;
    let channel = as_type(need("channel")?, &DataType::Utf8, "channel")?;
    let cost = as_type(need("cost")?, &DataType::Float64, "cost")?;
    let campaign = column(batch, "campaign")
        .map(|c| as_type(c, &DataType::Utf8, "campaign"))
        .transpose()?;
    let day = day.as_primitive::<Date32Type>();
    let channel = channel.as_string::<i32>();
    let cost = cost.as_primitive::<Float64Type>();
    let campaign = campaign.as_ref().map(|c| c.as_string::<i32>());
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    for i in 0..batch.num_rows() {
        let row = out.len() + 1;
        if day.is_null(i) || channel.is_null(i) || cost.is_null(i) {
            return Err(format!("row {row}: day, channel and cost are required"));
        }
        let day = epoch
            .checked_add_signed(chrono::Duration::days(i64::from(day.value(i))))
            .ok_or_else(|| format!("row {row}: day out of range"))?;
        out.push(CostRow {
            day,
            channel: channel.value(i).to_string(),
            campaign: campaign
                .filter(|c| !c.is_null(i) && !c.value(i).is_empty())
                .map(|c| c.value(i).to_string()),
            cost: cost.value(i),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_csv_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("costs.csv");
        std::fs::write(
            &good,
            "day,channel,campaign,cost\n2026-03-01,paid_search,spring,10.5\n2026-03-02,email,,2\n",
        )
        .unwrap();
        let rows = read_cost_file(&good).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].campaign.as_deref(), Some("spring"));
        assert_eq!(rows[0].cost, 10.5);
        assert_eq!(rows[1].day, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "day,channel,cost\n2026-03-01,paid_search,lots\n").unwrap();
        let err = read_cost_file(&bad).unwrap_err().to_string();
        assert!(
            err.contains("attribution.cost_file") && err.contains("cost"),
            "{err}"
        );
        let missing = dir.path().join("missing.csv");
        std::fs::write(&missing, "day,cost\n2026-03-01,1\n").unwrap();
        let err = read_cost_file(&missing).unwrap_err().to_string();
        assert!(err.contains("no column `channel`"), "{err}");
    }
}

//! Writes the generated rows as Parquet in the canonical event schema, one day
//! at a time: `part-NNNNN.parquet` files that stay open for the whole run, or
//! with `--partition-by-date` one `date=YYYY-MM-DD/part-NNNNN.parquet` set per
//! day that is closed as soon as the day is written.
//!
//! A user's rows always go to file `user % files`. With `--dirty`, some files
//! store `event_time` as Int64 epoch milliseconds and some are shuffled within
//! each day (see `FileKind`).

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use rand::seq::SliceRandom;

use super::event::Event;
use super::model::COUNTRIES;
use super::shop::{stream_rng, Stream};
use super::truth::{FileTruth, TIME_MS, TIME_US};
use super::GenerateError;

/// Rows per Parquet row group (the last group of a file may be smaller).
pub(crate) const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Rows per record batch handed to the writer.
const BATCH_ROWS: usize = 16 * 1024;
const GROUND_TRUTH: &str = "ground_truth.json";

/// The canonical event schema; `event_time` is Int64 epoch ms in dirty files.
pub fn event_schema(epoch_millis: bool) -> SchemaRef {
    let time = if epoch_millis {
        DataType::Int64
    } else {
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    };
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        text("event_id"),
        text("user_id"),
        Field::new("event_time", time, true),
        text("event_name"),
        text("source"),
        text("medium"),
        text("campaign"),
        text("device"),
        text("country"),
        text("page"),
        text("product_id"),
        text("category"),
        Field::new("revenue", DataType::Float64, true),
        text("experiment"),
        text("variant"),
    ]))
}

/// How file number `index` is written.
#[derive(Debug, Clone, Copy)]
struct FileKind {
    epoch_millis: bool,
    unsorted: bool,
}

impl FileKind {
    fn of(index: usize, files: usize, dirty: bool) -> FileKind {
        FileKind {
            epoch_millis: dirty && files >= 2 && index % 3 == 1,
            unsorted: dirty && index.is_multiple_of(3),
        }
    }
}

struct PartWriter {
    path: PathBuf,
    relative: String,
    kind: FileKind,
    writer: ArrowWriter<BufWriter<File>>,
    rows: u64,
}

impl PartWriter {
    fn create(out: &Path, relative: String, kind: FileKind) -> Result<PartWriter, GenerateError> {
        let path = out.join(&relative);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|source| GenerateError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let file = File::create(&path).map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        let writer = ArrowWriter::try_new(
            BufWriter::new(file),
            event_schema(kind.epoch_millis),
            Some(writer_properties()),
        )
        .map_err(|source| GenerateError::Parquet {
            path: path.clone(),
            source,
        })?;
        Ok(PartWriter {
            path,
            relative,
            kind,
            writer,
            rows: 0,
        })
    }

    fn write(&mut self, rows: &[Event], text: &mut String) -> Result<(), GenerateError> {
        for chunk in rows.chunks(BATCH_ROWS) {
            let batch = record_batch(chunk, self.kind.epoch_millis, text).map_err(|source| {
                GenerateError::Arrow {
                    path: self.path.clone(),
                    source,
                }
            })?;
            self.writer
                .write(&batch)
                .map_err(|source| GenerateError::Parquet {
                    path: self.path.clone(),
                    source,
                })?;
        }
        self.rows += rows.len() as u64;
        Ok(())
    }

    fn finish(self) -> Result<FileTruth, GenerateError> {
        let path = self.path;
        let mut inner = self
            .writer
            .into_inner()
            .map_err(|source| GenerateError::Parquet {
                path: path.clone(),
                source,
            })?;
        inner.flush().map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(FileTruth {
            path: self.relative,
            rows: self.rows,
            event_time: if self.kind.epoch_millis {
                TIME_MS
            } else {
                TIME_US
            }
            .to_string(),
            sorted_by_time: !self.kind.unsorted,
        })
    }
}

fn writer_properties() -> WriterProperties {
    // Level 3 is within zstd's valid range, so this cannot fail.
    let zstd = ZstdLevel::try_new(3).unwrap_or_default();
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

/// Receives each day's rows in day order and writes them.
pub(crate) struct Sink {
    out: PathBuf,
    files: usize,
    partition_by_date: bool,
    dirty: bool,
    seed: u64,
    /// One writer per file when not partitioning by date.
    open: Vec<PartWriter>,
    written: Vec<FileTruth>,
    text: String,
}

impl Sink {
    /// Prepares `out` (removing a previous run's files) and opens the writers.
    pub(crate) fn create(
        out: &Path,
        files: usize,
        partition_by_date: bool,
        dirty: bool,
        seed: u64,
    ) -> Result<Sink, GenerateError> {
        clear_previous_output(out)?;
        let mut open = Vec::new();
        if !partition_by_date {
            for index in 0..files {
                let kind = FileKind::of(index, files, dirty);
                open.push(PartWriter::create(out, part_name(index), kind)?);
            }
        }
        Ok(Sink {
            out: out.to_path_buf(),
            files,
            partition_by_date,
            dirty,
            seed,
            open,
            written: Vec::new(),
            text: String::new(),
        })
    }

    /// Writes all rows dated `day` (`date` is its `YYYY-MM-DD`).
    pub(crate) fn write_day(
        &mut self,
        day: u32,
        date: &str,
        mut rows: Vec<Event>,
    ) -> Result<(), GenerateError> {
        rows.sort_unstable_by_key(Event::sort_key);
        let mut by_file: Vec<Vec<Event>> = vec![Vec::new(); self.files];
        for ev in rows {
            by_file[(ev.user % self.files as u64) as usize].push(ev);
        }
        for (index, mut rows) in by_file.into_iter().enumerate() {
            let kind = FileKind::of(index, self.files, self.dirty);
            if kind.unsorted {
                let mut rng = stream_rng(
                    self.seed,
                    Stream::Shuffle,
                    u64::from(day) * self.files as u64 + index as u64,
                );
                rows.shuffle(&mut rng);
            }
            if self.partition_by_date {
                if rows.is_empty() {
                    continue;
                }
                let relative = format!("date={date}/{}", part_name(index));
                let mut writer = PartWriter::create(&self.out, relative, kind)?;
                writer.write(&rows, &mut self.text)?;
                self.written.push(writer.finish()?);
            } else {
                self.open[index].write(&rows, &mut self.text)?;
            }
        }
        Ok(())
    }

    /// Closes all files; returns them in the order they were written.
    pub(crate) fn finish(mut self) -> Result<Vec<FileTruth>, GenerateError> {
        for writer in self.open.drain(..) {
            self.written.push(writer.finish()?);
        }
        Ok(self.written)
    }
}

fn part_name(index: usize) -> String {
    format!("part-{index:05}.parquet")
}

fn is_part_file(name: &str) -> bool {
    name.starts_with("part-") && name.ends_with(".parquet")
}

/// Removes what an earlier `generate` wrote into `out`, and nothing else. A
/// `date=` directory holding other files is an error rather than deleted.
fn clear_previous_output(out: &Path) -> Result<(), GenerateError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| GenerateError::Io { path, source }
    };
    fs::create_dir_all(out).map_err(|source| GenerateError::CreateDir {
        path: out.to_path_buf(),
        source,
    })?;
    for entry in fs::read_dir(out).map_err(io(out))? {
        let entry = entry.map_err(io(out))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().map_err(io(&path))?.is_dir();
        if !is_dir && (is_part_file(&name) || name == GROUND_TRUTH) {
            fs::remove_file(&path).map_err(io(&path))?;
        } else if is_dir && name.starts_with("date=") {
            for inner in fs::read_dir(&path).map_err(io(&path))? {
                let inner = inner.map_err(io(&path))?;
                let inner_name = inner.file_name().to_string_lossy().into_owned();
                if !is_part_file(&inner_name) {
                    return Err(GenerateError::ForeignFile { path: inner.path() });
                }
            }
            fs::remove_dir_all(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Path of the ground truth file in `out`.
pub(crate) fn ground_truth_path(out: &Path) -> PathBuf {
    out.join(GROUND_TRUTH)
}

/// Builds one record batch of the canonical schema from compact rows.
fn record_batch(
    rows: &[Event],
    epoch_millis: bool,
    text: &mut String,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let n = rows.len();
    let strings = |bytes: usize| StringBuilder::with_capacity(n, n * bytes);
    let (mut event_id, mut user_id, mut name) = (strings(14), strings(9), strings(12));
    let (mut source, mut medium, mut campaign) = (strings(8), strings(8), strings(12));
    let (mut device, mut country, mut page) = (strings(7), strings(2), strings(16));
    let (mut product, mut category) = (strings(5), strings(7));
    let (mut experiment, mut variant) = (strings(9), strings(9));
    let mut revenue = Float64Builder::with_capacity(n);
    let mut micros = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut millis = Int64Builder::with_capacity(n);
    for ev in rows {
        ev.write_event_id(text);
        event_id.append_value(text.as_str());
        if ev.write_user_id(text) {
            user_id.append_value(text.as_str());
        } else {
            user_id.append_null();
        }
        if epoch_millis {
            millis.append_value(ev.time_ms);
        } else {
            micros.append_value(ev.time_ms * 1000);
        }
        name.append_value(ev.name.as_str());
        source.append_value(ev.source());
        medium.append_value(ev.medium());
        campaign.append_option(ev.campaign());
        device.append_value(ev.device());
        country.append_value(COUNTRIES[usize::from(ev.country)].0);
        ev.write_page(text);
        page.append_value(text.as_str());
        if ev.write_product_id(text) {
            product.append_value(text.as_str());
        } else {
            product.append_null();
        }
        category.append_option(ev.category());
        revenue.append_option(ev.revenue);
        experiment.append_option(ev.experiment());
        variant.append_option(ev.arm.variant());
    }
    let time: ArrayRef = if epoch_millis {
        Arc::new(millis.finish())
    } else {
        Arc::new(micros.finish())
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(event_id.finish()),
        Arc::new(user_id.finish()),
        time,
        Arc::new(name.finish()),
        Arc::new(source.finish()),
        Arc::new(medium.finish()),
        Arc::new(campaign.finish()),
        Arc::new(device.finish()),
        Arc::new(country.finish()),
        Arc::new(page.finish()),
        Arc::new(product.finish()),
        Arc::new(category.finish()),
        Arc::new(revenue.finish()),
        Arc::new(experiment.finish()),
        Arc::new(variant.finish()),
    ];
    RecordBatch::try_new(event_schema(epoch_millis), columns)
}

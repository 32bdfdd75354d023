//! One pass over a plan, feeding several queries at once.
//!
//! The flagged input (every mapped row with its reject reason) is read by
//! three queries: `events` (the good rows), `rejected_events` and the counts
//! by reason. Writing it to disk and reading it back three times costs a
//! full write and several full reads of the input. Instead [`tee`] executes
//! the plan once and hands every batch of partition `p` to partition `p` of
//! each consumer table (a [`StreamingTable`]), through bounded channels; the
//! consumer queries are planned on those tables and run concurrently with
//! the producer ([`Producer::run`]).
//!
//! Every consumer must read its table to the end, concurrently with the
//! others: a consumer that stopped early would only drop its channel (the
//! producer then skips it), but one that waited for another consumer
//! before reading would stall the pass. Each consumer table can be scanned
//! once.

use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::common::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use datafusion::prelude::DataFrame;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::error::{Error, Result};

/// Batches in flight per partition and consumer: enough to keep both sides
/// busy, few enough to bound memory.
const CHANNEL_BATCHES: usize = 4;

type Item = std::result::Result<RecordBatch, DataFusionError>;

/// The producing side of a tee: run it concurrently with the consumers.
pub struct Producer {
    plan: Arc<dyn ExecutionPlan>,
    task_ctx: Arc<TaskContext>,
    senders: Vec<Vec<mpsc::Sender<Item>>>,
}

/// Plan `df` and make `N` consumer tables that each see all of its rows.
pub async fn tee<const N: usize>(df: DataFrame) -> Result<([Arc<StreamingTable>; N], Producer)> {
    let task_ctx = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    let schema = plan.schema();
    let partitions = plan.output_partitioning().partition_count();
    let mut senders: Vec<Vec<mpsc::Sender<Item>>> = (0..partitions).map(|_| Vec::new()).collect();
    let mut tables = Vec::with_capacity(N);
    for _ in 0..N {
        let mut streams: Vec<Arc<dyn PartitionStream>> = Vec::with_capacity(partitions);
        for partition_senders in senders.iter_mut() {
            let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
            partition_senders.push(tx);
            streams.push(Arc::new(Receiving {
                schema: Arc::clone(&schema),
                receiver: Mutex::new(Some(rx)),
            }));
        }
        tables.push(Arc::new(StreamingTable::try_new(
            Arc::clone(&schema),
            streams,
        )?));
    }
    let tables: [Arc<StreamingTable>; N] = tables
        .try_into()
        .unwrap_or_else(|_| unreachable!("N tables were made"));
    Ok((
        tables,
        Producer {
            plan,
            task_ctx,
            senders,
        },
    ))
}

impl Producer {
    /// Execute the plan, every partition in its own task, sending each
    /// batch to every consumer still listening. An error is sent to the
    /// consumers too (so none waits forever) and returned.
    pub async fn run(self) -> Result<()> {
        let mut tasks = JoinSet::new();
        for (partition, senders) in self.senders.into_iter().enumerate() {
            let stream = self.plan.execute(partition, Arc::clone(&self.task_ctx))?;
            tasks.spawn(feed(stream, senders));
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            let result = joined.map_err(|e| DataFusionError::External(Box::new(e)));
            if let Err(e) | Ok(Err(e)) = result {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(Error::from(e)),
            None => Ok(()),
        }
    }
}

async fn feed(
    mut stream: SendableRecordBatchStream,
    mut senders: Vec<mpsc::Sender<Item>>,
) -> std::result::Result<(), DataFusionError> {
    while let Some(item) = stream.next().await {
        match item {
            Ok(batch) => {
                // a consumer that hung up is done with its input
                let mut open = Vec::with_capacity(senders.len());
                for tx in senders {
                    if tx.send(Ok(batch.clone())).await.is_ok() {
                        open.push(tx);
                    }
                }
                senders = open;
            }
            Err(e) => {
                let shared = Arc::new(e);
                for tx in &senders {
                    let _ = tx
                        .send(Err(DataFusionError::Shared(Arc::clone(&shared))))
                        .await;
                }
                return Err(DataFusionError::Shared(shared));
            }
        }
    }
    Ok(())
}

/// One partition of a consumer table: the receiving end of a channel.
#[derive(Debug)]
struct Receiving {
    schema: SchemaRef,
    receiver: Mutex<Option<mpsc::Receiver<Item>>>,
}

impl PartitionStream for Receiving {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let receiver = self.receiver.lock().ok().and_then(|mut r| r.take());
        let stream = match receiver {
            Some(rx) => futures::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|item| (item, rx))
            })
            .boxed(),
            None => futures::stream::once(async {
                Err(DataFusionError::Internal(
                    "a tee's consumer table was scanned twice".into(),
                ))
            })
            .boxed(),
        };
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        ))
    }
}

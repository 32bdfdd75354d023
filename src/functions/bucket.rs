//! `hash_bucket(key)`: the bucket (0 to [`BUCKETS`] − 1) of a text key, by
//! a fixed hash (xxHash64, seed 0, of the UTF-8 bytes). NULL stays NULL.
//!
//! Why: per-user and per-session work (deduplication, sessionization, the
//! paths of a session) is a window over one order with neighbour checks
//! (`LAG(user_id) ... = user_id`). Without `PARTITION BY` such a window is
//! one global sort and one stream; with `PARTITION BY user_id` DataFusion
//! keeps a window partition per user, which is far slower with millions of
//! users. `PARTITION BY hash_bucket(user_id)` is the middle way: every user
//! lies wholly in one of 1,024 window partitions, DataFusion hash-partitions
//! the rows into `target_partitions` streams by bucket and sorts and
//! windows each stream on its own (one core each, or one Ballista task
//! each), and the neighbour checks give the same answer as before.
//!
//! The hash is fixed (not the process-seeded one of a `HashMap`) and the
//! bucket count does not depend on `target_partitions`, so every process of
//! a cluster puts a key in the same bucket and answers do not depend on the
//! parallelism. Row numbers restart in each bucket, so a query may only use
//! them within a key, never as a global rank.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::scalar::ScalarValue;
use twox_hash::XxHash64;

/// How many buckets `hash_bucket` spreads keys over: more than any
/// realistic number of partitions, few enough that a window partition per
/// bucket costs nothing.
pub const BUCKETS: u64 = 1024;

/// The bucket of one key.
pub fn bucket_of(key: &str) -> i32 {
    // BUCKETS fits in i32, so the remainder does too
    (XxHash64::oneshot(0, key.as_bytes()) % BUCKETS) as i32
}

/// `hash_bucket(key)` as a scalar UDF.
pub fn hash_bucket_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(HashBucket {
        signature: Signature::string(1, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct HashBucket {
    signature: Signature,
}

impl ScalarUDFImpl for HashBucket {
    fn name(&self) -> &str {
        "hash_bucket"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null] => {
                Ok(DataType::Int32)
            }
            other => plan_err!("hash_bucket takes one text argument, got {other:?}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return exec_err!("hash_bucket takes one argument");
        };
        match arg {
            ColumnarValue::Scalar(s) => {
                let text = match s {
                    ScalarValue::Utf8(v) | ScalarValue::Utf8View(v) | ScalarValue::LargeUtf8(v) => {
                        v.as_deref()
                    }
                    ScalarValue::Null => None,
                    other => return exec_err!("hash_bucket: unexpected argument {other:?}"),
                };
                Ok(ColumnarValue::Scalar(ScalarValue::Int32(
                    text.map(bucket_of),
                )))
            }
            ColumnarValue::Array(array) => {
                let buckets: Int32Array = match array.data_type() {
                    DataType::Utf8 => array
                        .as_string::<i32>()
                        .iter()
                        .map(|v| v.map(bucket_of))
                        .collect(),
                    DataType::LargeUtf8 => array
                        .as_string::<i64>()
                        .iter()
                        .map(|v| v.map(bucket_of))
                        .collect(),
                    DataType::Utf8View => array
                        .as_string_view()
                        .iter()
                        .map(|v| v.map(bucket_of))
                        .collect(),
                    DataType::Null => Int32Array::new_null(array.len()),
                    other => return exec_err!("hash_bucket: unexpected argument type {other}"),
                };
                let out: ArrayRef = Arc::new(buckets);
                Ok(ColumnarValue::Array(out))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_fixed_and_in_range() {
        // xxHash64 of "" with seed 0 is 0xEF46DB3751D8E999 (the reference
        // value of the xxHash specification)
        assert_eq!(XxHash64::oneshot(0, b""), 0xEF46_DB37_51D8_E999);
        assert_eq!(bucket_of(""), (0xEF46_DB37_51D8_E999u64 % 1024) as i32);
        for key in ["u1", "u2", "a much longer user id 12345", "é"] {
            let b = bucket_of(key);
            assert!((0..1024).contains(&b), "{key}: {b}");
            assert_eq!(b, bucket_of(key));
        }
    }
}

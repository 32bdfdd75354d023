//! `[storage]`: overrides for the object stores that `s3://`, `gs://` and
//! `az://` URLs open. Anything left out comes from each cloud's standard
//! environment variables and files (`AWS_ENDPOINT_URL`, `AWS_REGION`,
//! `AWS_ALLOW_HTTP`, `GOOGLE_APPLICATION_CREDENTIALS`, ...). Credentials
//! are never read from the config file: it is copied into every run
//! manifest.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// The service's address, e.g. `http://localhost:9000` for MinIO or
    /// `https://<account>.r2.cloudflarestorage.com` for R2.
    pub endpoint: Option<String>,
    /// The S3 region (`us-east-1` when neither this nor `AWS_REGION` is set).
    pub region: Option<String>,
    /// Allow plain `http://` endpoints (local MinIO, moto).
    pub allow_http: Option<bool>,
    /// Address buckets as `endpoint/bucket/key` (MinIO and most
    /// S3-compatible stores) rather than `bucket.endpoint/key`.
    pub path_style: Option<bool>,
}

impl StorageConfig {
    pub fn validate(&self) -> Result<StorageConfig> {
        if let Some(e) = &self.endpoint {
            let ok = url::Url::parse(e)
                .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .unwrap_or(false);
            if !ok {
                return Err(Error::setting(
                    "storage.endpoint",
                    format!("`{e}` is not an http:// or https:// address"),
                ));
            }
            if e.starts_with("http://") && self.allow_http == Some(false) {
                return Err(Error::setting(
                    "storage.endpoint",
                    format!("`{e}` is plain http but `allow_http = false`"),
                ));
            }
        }
        Ok(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_must_be_an_http_address() {
        let bad = StorageConfig {
            endpoint: Some("localhost:9000".into()),
            ..Default::default()
        };
        let err = bad.validate().unwrap_err().to_string();
        assert!(
            err.contains("storage.endpoint") && err.contains("localhost:9000"),
            "{err}"
        );
        let good = StorageConfig {
            endpoint: Some("http://127.0.0.1:9000".into()),
            allow_http: Some(true),
            ..Default::default()
        };
        assert_eq!(good.validate().unwrap(), good);
        let contradicts = StorageConfig {
            allow_http: Some(false),
            ..good
        };
        assert!(contradicts.validate().is_err());
    }
}

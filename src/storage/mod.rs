//! Object stores: where a path may be a URL. `s3://`, `gs://`, `az://` /
//! `abfss://` URLs are opened with the `object_store` crate (the one
//! DataFusion reads through), credentials and endpoints coming from each
//! cloud's standard environment variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`,
//! `GOOGLE_APPLICATION_CREDENTIALS`, `AZURE_STORAGE_ACCOUNT_NAME`...).
//! `file://` URLs and plain paths are local paths. The store of each bucket
//! is registered on the session, so DataFusion scans `s3://bucket/key` as
//! it scans a local file.
//!
//! The input (`[input] events`, `--events`) and the output (`[output]
//! dir`, `--out`) may be URLs; `[storage]` overrides the endpoint, region,
//! plain-http and path-style settings. Publishing to a store is
//! `sink::export`.

use std::sync::Arc;

use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use url::Url;

use crate::config::sections::storage::StorageConfig;
use crate::error::{Error, Result};

/// Whether `spec` is a URL of an object store (not a local path, not
/// `file://`).
pub fn is_remote(spec: &str) -> bool {
    match spec.split_once("://") {
        Some((scheme, _)) => {
            !scheme.eq_ignore_ascii_case("file")
                && !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// A local path for a plain path or a `file://` URL.
pub fn local_path(spec: &str) -> String {
    match spec.strip_prefix("file://") {
        Some(rest) => rest.to_string(),
        None => spec.to_string(),
    }
}

/// An object store and a location in it.
#[derive(Debug, Clone)]
pub struct Remote {
    /// `scheme://bucket/`: what the store is registered under.
    pub root: Url,
    pub store: Arc<dyn ObjectStore>,
    /// The key (or key prefix) inside the bucket.
    pub path: ObjectPath,
    /// The URL as the user wrote it, for messages.
    pub spec: String,
}

/// Open the object store that `spec` (an `s3://`, `gs://`, `az://`,
/// `abfss://` URL) lives in, with `[storage]` overrides over each cloud's
/// environment. An unknown scheme is a setting error (exit 2) naming the
/// URL; missing credentials are reported by the first request.
pub fn open(spec: &str, overrides: &StorageConfig) -> Result<Remote> {
    let bad = |message: String| Error::setting("url", format!("`{spec}`: {message}"));
    let url = Url::parse(spec).map_err(|e| bad(format!("not a URL ({e})")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no bucket or container in the URL".into()));
    }
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" | "s3a" => {
            let mut b = object_store::aws::AmazonS3Builder::from_env().with_url(spec);
            if let Some(e) = &overrides.endpoint {
                b = b.with_endpoint(e);
            }
            if let Some(r) = &overrides.region {
                b = b.with_region(r);
            }
            if let Some(h) = overrides.allow_http {
                b = b.with_allow_http(h);
            }
            if let Some(p) = overrides.path_style {
                b = b.with_virtual_hosted_style_request(!p);
            }
            Arc::new(b.build().map_err(|e| bad(e.to_string()))?)
        }
        "gs" => {
            use object_store::gcp::GoogleConfigKey;
            let mut b = object_store::gcp::GoogleCloudStorageBuilder::from_env().with_url(spec);
            if let Some(e) = &overrides.endpoint {
                b = b.with_config(GoogleConfigKey::BaseUrl, e);
            }
            if let Some(h) = overrides.allow_http {
                let key = GoogleConfigKey::Client(object_store::ClientConfigKey::AllowHttp);
                b = b.with_config(key, h.to_string());
            }
            Arc::new(b.build().map_err(|e| bad(e.to_string()))?)
        }
        "az" | "azure" | "abfs" | "abfss" | "adl" => {
            let mut b = object_store::azure::MicrosoftAzureBuilder::from_env().with_url(spec);
            if let Some(e) = &overrides.endpoint {
                b = b.with_endpoint(e.clone());
            }
            if let Some(h) = overrides.allow_http {
                b = b.with_allow_http(h);
            }
            Arc::new(b.build().map_err(|e| bad(e.to_string()))?)
        }
        other => {
            return Err(bad(format!(
                "unknown scheme `{other}://` (use s3://, gs://, az://, abfss://, file:// or a local path)"
            )))
        }
    };
    // the whole authority: `container@account...` for abfss:// URLs, as
    // DataFusion keys its object-store registry
    let authority = &url[url::Position::BeforeUsername..url::Position::AfterPort];
    let root = Url::parse(&format!("{}://{}/", url.scheme(), authority))
        .map_err(|e| bad(e.to_string()))?;
    let key = url.path().trim_start_matches('/').trim_end_matches('/');
    // abfss://container@account.dfs.core.windows.net/key: the key is the path
    let path = ObjectPath::parse(key).map_err(|e| bad(e.to_string()))?;
    Ok(Remote {
        root,
        store,
        path,
        spec: spec.to_string(),
    })
}

/// [`open`] for an output: an object-store URL, or a local folder (created
/// if missing) seen through the same interface (Delta output on disk).
pub fn open_output(spec: &str, overrides: &StorageConfig) -> Result<Remote> {
    if is_remote(spec) {
        return open(spec, overrides);
    }
    let local = local_path(spec);
    std::fs::create_dir_all(&local).map_err(|e| Error::io(std::path::Path::new(&local), e))?;
    let absolute =
        std::fs::canonicalize(&local).map_err(|e| Error::io(std::path::Path::new(&local), e))?;
    let path = ObjectPath::from_absolute_path(&absolute)
        .map_err(|e| Error::setting("output.dir", format!("`{spec}`: {e}")))?;
    Ok(Remote {
        root: Url::parse("file:///").expect("a valid URL"),
        store: Arc::new(object_store::local::LocalFileSystem::new()),
        path,
        spec: spec.to_string(),
    })
}

impl Remote {
    /// Make DataFusion read this bucket through this store.
    pub fn register(&self, ctx: &SessionContext) {
        ctx.register_object_store(&self.root, Arc::clone(&self.store));
    }

    /// The URL of `key` in this bucket.
    pub fn url_of(&self, key: &ObjectPath) -> String {
        format!("{}{}", self.root, key)
    }

    /// The object at the exact key, if there is one.
    pub async fn head(&self) -> Result<Option<ObjectMeta>> {
        if self.path.as_ref().is_empty() {
            return Ok(None);
        }
        match self.store.head(&self.path).await {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Every object under `prefix` (recursively).
    pub async fn list(&self, prefix: &ObjectPath) -> Result<Vec<ObjectMeta>> {
        let prefix = (!prefix.as_ref().is_empty()).then_some(prefix);
        self.store
            .list(prefix)
            .try_collect()
            .await
            .map_err(|e| self.error(e))
    }

    /// The first object under `prefix`, if any: one request that fails
    /// on a missing bucket, wrong credentials or a denied listing.
    pub async fn list_one(&self, prefix: &ObjectPath) -> Result<Option<ObjectMeta>> {
        let prefix = (!prefix.as_ref().is_empty()).then_some(prefix);
        let mut stream = self.store.list(prefix);
        stream.try_next().await.map_err(|e| self.error(e))
    }

    /// An error naming this URL and the store's cause (no such bucket,
    /// access denied, no credentials).
    pub fn error(&self, e: object_store::Error) -> Error {
        storage_error(&self.spec, e)
    }
}

/// A request to the store at `url` failed: the cause in words, then the
/// store's own message.
pub fn storage_error(url: &str, e: object_store::Error) -> Error {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    let cause = if lower.contains("nosuchbucket") || lower.contains("bucket does not exist") {
        "no such bucket"
    } else if matches!(e, object_store::Error::PermissionDenied { .. })
        || lower.contains("accessdenied")
        || lower.contains("403")
    {
        "access denied"
    } else if matches!(e, object_store::Error::Unauthenticated { .. })
        || lower.contains("invalidaccesskeyid")
        || lower.contains("signaturedoesnotmatch")
        || lower.contains("credential")
    {
        "no valid credentials"
    } else if matches!(e, object_store::Error::NotFound { .. }) {
        "not found"
    } else {
        "the request failed"
    };
    Error::Storage {
        url: url.to_string(),
        message: format!("{cause}: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart() {
        assert!(is_remote("s3://bucket/events"));
        assert!(is_remote("gs://bucket/x/*.parquet"));
        assert!(is_remote("abfss://c@acct.dfs.core.windows.net/x"));
        assert!(!is_remote("file:///data/events"));
        assert!(!is_remote("data/sample"));
        assert!(!is_remote("/abs/path/date=2026-01-01"));
        assert_eq!(local_path("file:///data/events"), "/data/events");
        assert_eq!(local_path("data/sample"), "data/sample");
    }

    #[test]
    fn an_unknown_scheme_is_a_setting_error_naming_the_url() {
        let err = open("ftp://host/events", &StorageConfig::default()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        assert!(
            text.contains("ftp://host/events") && text.contains("unknown scheme"),
            "{text}"
        );
    }

    #[test]
    fn an_abfss_url_keeps_its_container_in_urls() {
        let r = open(
            "abfss://box@acct.dfs.core.windows.net/events/x",
            &StorageConfig::default(),
        )
        .unwrap();
        assert_eq!(r.root.as_str(), "abfss://box@acct.dfs.core.windows.net/");
        assert_eq!(
            r.url_of(&r.path),
            "abfss://box@acct.dfs.core.windows.net/events/x"
        );
    }

    #[test]
    fn an_s3_url_opens_its_bucket_and_key() {
        let r = open(
            "s3://bucket/events/date=2026-01-01",
            &StorageConfig::default(),
        )
        .unwrap();
        assert_eq!(r.root.as_str(), "s3://bucket/");
        assert_eq!(r.path.as_ref(), "events/date=2026-01-01");
        assert_eq!(
            r.url_of(&ObjectPath::from("events/a.parquet")),
            "s3://bucket/events/a.parquet"
        );
    }
}

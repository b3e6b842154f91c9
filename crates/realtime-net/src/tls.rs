//! TLS settings, and the rustls client configuration every adapter uses: verified
//! certificates, the `ring` provider, TLS 1.2 and 1.3.
//!
//! Certificates are verified by default against the web PKI roots (`webpki-roots`). Adapters can
//! add the operating system's roots (they load them: that is I/O) and extra roots for tests and
//! private deployments (a self-signed certificate, a corporate CA).

/// Which certificates the client trusts.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TlsOptions {
    /// Trust the Mozilla web PKI roots bundled with the library (default true).
    pub webpki_roots: bool,
    /// Trust the operating system's roots too (default false).
    pub native_roots: bool,
    /// Extra trusted roots, DER-encoded.
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self {
            webpki_roots: true,
            native_roots: false,
            extra_roots: Vec::new(),
        }
    }
}

impl TlsOptions {
    /// Trusts one more root certificate (DER).
    #[must_use]
    pub fn with_root(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(der.into());
        self
    }

    /// Trusts the operating system's roots too.
    #[must_use]
    pub fn with_native_roots(mut self) -> Self {
        self.native_roots = true;
        self
    }

    /// Trusts only the given roots (no web PKI): for a private CA or a test certificate.
    pub fn only_roots(roots: impl IntoIterator<Item = Vec<u8>>) -> Self {
        Self {
            webpki_roots: false,
            native_roots: false,
            extra_roots: roots.into_iter().collect(),
        }
    }
}

/// The TLS configuration could not be built.
#[non_exhaustive]
#[derive(Clone, Debug, thiserror::Error)]
pub enum TlsError {
    /// A root certificate is not a valid DER certificate.
    #[error("root certificate {index} is invalid: {reason}")]
    InvalidRoot {
        /// Its position among the extra roots.
        index: usize,
        /// Why.
        reason: String,
    },
    /// No root certificate at all: nothing could be verified.
    #[error("no trusted root certificates (enable the web PKI or native roots, or add one)")]
    NoRoots,
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(String),
}

mod config {
    use std::sync::Arc;

    use rustls::{ClientConfig, RootCertStore};
    use rustls_pki_types::{CertificateDer, ServerName};

    use super::{TlsError, TlsOptions};
    use crate::handshake::EndpointError;
    use crate::options::ConnectError;

    /// Builds the rustls client configuration: verified certificates against the chosen roots,
    /// the `ring` provider. `native` are the operating system's roots, if the adapter loaded
    /// them (only used when `options.native_roots` is set).
    pub fn client_config(
        options: &TlsOptions,
        native: Vec<CertificateDer<'static>>,
    ) -> Result<Arc<ClientConfig>, TlsError> {
        let mut roots = RootCertStore::empty();
        if options.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if options.native_roots {
            // Some OS certificates are malformed; skipping them is what every client does.
            let _ = roots.add_parsable_certificates(native);
        }
        for (index, der) in options.extra_roots.iter().enumerate() {
            roots
                .add(CertificateDer::from(der.clone()))
                .map_err(|error| TlsError::InvalidRoot {
                    index,
                    reason: error.to_string(),
                })?;
        }
        if roots.is_empty() {
            return Err(TlsError::NoRoots);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| TlsError::Config(error.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    /// What an adapter needs to open TLS to `host`: the client configuration
    /// ([`client_config`]) and the name the certificate must match. The operating system's
    /// roots are loaded (with `rustls-native-certs`) only when `options.native_roots` is set.
    pub fn client_setup(
        options: &TlsOptions,
        host: &str,
    ) -> Result<(Arc<ClientConfig>, ServerName<'static>), ConnectError> {
        client_setup_with(options, host, || {
            rustls_native_certs::load_native_certs().certs
        })
    }

    /// [`client_setup`] with the loader of the operating system's roots supplied; it is called
    /// only when `options.native_roots` is set.
    pub fn client_setup_with(
        options: &TlsOptions,
        host: &str,
        native_roots: impl FnOnce() -> Vec<CertificateDer<'static>>,
    ) -> Result<(Arc<ClientConfig>, ServerName<'static>), ConnectError> {
        let native = if options.native_roots {
            native_roots()
        } else {
            Vec::new()
        };
        let config = client_config(options, native)?;
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| EndpointError::InvalidUrl(host.to_owned()))?;
        Ok((config, name))
    }
}

pub use self::config::{client_config, client_setup, client_setup_with};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_trust_the_web_pki() {
        assert!(client_config(&TlsOptions::default(), Vec::new()).is_ok());
        assert!(matches!(
            client_config(&TlsOptions::only_roots([]), Vec::new()),
            Err(TlsError::NoRoots)
        ));
        assert!(matches!(
            client_config(
                &TlsOptions::only_roots([b"not a certificate".to_vec()]),
                Vec::new()
            ),
            Err(TlsError::InvalidRoot { index: 0, .. })
        ));
    }

    #[test]
    fn setup_loads_native_roots_only_when_asked_and_checks_the_name() {
        use crate::handshake::EndpointError;
        use crate::options::ConnectError;

        let mut loaded = false;
        let (_, name) = client_setup_with(&TlsOptions::default(), "api.openai.com", || {
            loaded = true;
            Vec::new()
        })
        .unwrap();
        assert!(!loaded);
        assert_eq!(name.to_str(), "api.openai.com");

        let native = TlsOptions::default().with_native_roots();
        client_setup_with(&native, "127.0.0.1", || {
            loaded = true;
            Vec::new()
        })
        .unwrap();
        assert!(loaded);

        assert!(matches!(
            client_setup_with(&TlsOptions::default(), "not a host name", Vec::new),
            Err(ConnectError::Endpoint(EndpointError::InvalidUrl(host))) if host == "not a host name"
        ));
    }
}

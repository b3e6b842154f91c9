//! TLS settings, and the rustls client configuration every adapter uses: verified
//! certificates, the `ring` provider, TLS 1.2 and 1.3.
//!
//! Certificates are verified by default against the web PKI roots (`webpki-roots`). Adapters can
//! add the operating system's roots (loaded with `rustls-native-certs` when
//! [`TlsOptions::native_roots`] is set, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`) and
//! extra roots for tests and private deployments (a self-signed certificate, a corporate CA, the
//! CA of a TLS-inspecting proxy), from a PEM file, PEM bytes or DER.
//!
//! ```no_run
//! use realtime_net::tls::TlsOptions;
//!
//! // The web PKI and the company's CA.
//! let tls = TlsOptions::default().with_ca_file("/etc/corp/ca.pem")?;
//! // Only the operating system's store (with SSL_CERT_FILE / SSL_CERT_DIR).
//! let native = TlsOptions::native_only();
//! # let _ = (tls, native); Ok::<(), realtime_net::tls::TlsError>(())
//! ```

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

    /// Trusts the operating system's roots too (the platform's store; on Unix, also the files
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` name).
    #[must_use]
    pub fn with_native_roots(mut self) -> Self {
        self.native_roots = true;
        self
    }

    /// Trusts the operating system's roots only (no bundled web PKI).
    pub fn native_only() -> Self {
        Self {
            webpki_roots: false,
            native_roots: true,
            extra_roots: Vec::new(),
        }
    }

    /// Trusts every certificate of a PEM bundle too (`-----BEGIN CERTIFICATE-----` blocks;
    /// other blocks, such as keys, are skipped).
    ///
    /// ```
    /// use realtime_net::tls::{TlsError, TlsOptions};
    ///
    /// assert!(matches!(
    ///     TlsOptions::default().with_pem(b"no certificate here"),
    ///     Err(TlsError::InvalidPem(_))
    /// ));
    /// ```
    ///
    /// # Errors
    ///
    /// [`TlsError::InvalidPem`] when a block does not decode or there is no certificate.
    pub fn with_pem(mut self, pem: &[u8]) -> Result<Self, TlsError> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;

        let mut found = 0;
        for certificate in CertificateDer::pem_slice_iter(pem) {
            let certificate =
                certificate.map_err(|error| TlsError::InvalidPem(error.to_string()))?;
            self.extra_roots.push(certificate.to_vec());
            found += 1;
        }
        if found == 0 {
            return Err(TlsError::InvalidPem("no CERTIFICATE block".to_owned()));
        }
        Ok(self)
    }

    /// Trusts the certificates of a file too: PEM (one or more certificates), or a single DER
    /// certificate.
    ///
    /// # Errors
    ///
    /// [`TlsError::CaFile`] when the file cannot be read or holds no certificate.
    pub fn with_ca_file(self, path: impl AsRef<std::path::Path>) -> Result<Self, TlsError> {
        let path = path.as_ref();
        let failed = |reason: String| TlsError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|error| failed(error.to_string()))?;
        if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            return self
                .with_pem(&bytes)
                .map_err(|error| failed(error.to_string()));
        }
        // DER: a certificate is an ASN.1 SEQUENCE; rustls checks the rest when it is added.
        if bytes.first() != Some(&0x30) {
            return Err(failed("neither PEM nor a DER certificate".to_owned()));
        }
        Ok(self.with_root(bytes))
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
    /// PEM text that holds no certificate, or a block that does not decode.
    #[error("invalid PEM: {0}")]
    InvalidPem(String),
    /// A CA file cannot be read, or holds no certificate.
    #[error("CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
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

    /// PEM text for DER bytes (rcgen's `pem` feature is off).
    fn to_pem(label: &str, der: &[u8]) -> String {
        use base64::Engine as _;

        let text = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = text
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn a_ca_from_pem_bytes_or_a_file() {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let pem = to_pem("CERTIFICATE", certified.cert.der());
        let der = certified.cert.der().to_vec();
        let tls = TlsOptions::only_roots([]).with_pem(pem.as_bytes()).unwrap();
        assert_eq!(tls.extra_roots, std::slice::from_ref(&der));
        assert!(client_config(&tls, Vec::new()).is_ok());
        // Two certificates and a key in one bundle: both certificates.
        let other = rcgen::generate_simple_self_signed(vec!["b".into()]).unwrap();
        let bundle = format!(
            "{pem}{}{}",
            to_pem("PRIVATE KEY", &certified.signing_key.serialize_der()),
            to_pem("CERTIFICATE", other.cert.der())
        );
        let tls = TlsOptions::default().with_pem(bundle.as_bytes()).unwrap();
        assert_eq!(tls.extra_roots.len(), 2);

        let dir = std::env::temp_dir().join(format!("realtime-net-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem_file = dir.join("ca.pem");
        std::fs::write(&pem_file, &pem).unwrap();
        let der_file = dir.join("ca.der");
        std::fs::write(&der_file, &der).unwrap();
        let junk_file = dir.join("junk.txt");
        std::fs::write(&junk_file, "hello").unwrap();
        assert_eq!(
            TlsOptions::only_roots([])
                .with_ca_file(&pem_file)
                .unwrap()
                .extra_roots,
            std::slice::from_ref(&der)
        );
        assert_eq!(
            TlsOptions::only_roots([])
                .with_ca_file(&der_file)
                .unwrap()
                .extra_roots,
            [der]
        );
        for bad in [junk_file, dir.join("missing.pem")] {
            let error = TlsOptions::default().with_ca_file(&bad).unwrap_err();
            assert!(
                matches!(&error, TlsError::CaFile { path, .. } if path.contains("realtime-net-ca")),
                "{error}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
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

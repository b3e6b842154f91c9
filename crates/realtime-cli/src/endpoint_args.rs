//! The endpoint flags of the `realtime` command and of the adapters' examples: where to connect,
//! as a command line says it, with environment fallbacks.
//!
//! The CLI fills [`EndpointArgs`] from its clap flags; the examples (which have no flag parser)
//! include this file with `#[path]` and call [`EndpointArgs::parse`]. It depends only on
//! `realtime-net` and `realtime-proto`, which both have.

// The examples include this file and use only part of it.
#![allow(dead_code)]

use realtime_net::ConnectOptions;
use realtime_net::handshake::Credential;
use realtime_net::proxy::ProxyOptions;
use realtime_net::tls::TlsOptions;
use realtime_proto::Dialect;

/// Where to connect, as a command line says it: the flags the examples and the `realtime` tool
/// share, with environment fallbacks.
///
/// | flag | environment | meaning |
/// |---|---|---|
/// | `--url URL` | | any WebSocket URL (a relay, a compatible server, `realtime mock`) |
/// | `--azure-endpoint URL\|NAME` | `AZURE_OPENAI_ENDPOINT` | an Azure resource (`https://NAME.openai.azure.com`, or just `NAME`) |
/// | `--deployment NAME` | `AZURE_OPENAI_DEPLOYMENT` | the Azure deployment |
/// | `--api-version V` | | Azure preview path (beta dialect) instead of GA |
/// | `--model M` | | the OpenAI model (default `gpt-realtime`) |
/// | `--api-key K` | `OPENAI_API_KEY`, `AZURE_OPENAI_API_KEY` | the key |
/// | `--dialect ga\|beta` | | override the endpoint's dialect |
/// | `--proxy URL` | `HTTPS_PROXY`, `http_proxy`, `ALL_PROXY`, `NO_PROXY` | an HTTP CONNECT proxy (`http://[user:pw@]host:port`, `https://…`) |
/// | `--no-proxy` | | no proxy, whatever the environment says |
/// | `--ca-file PATH` | | also trust the CA certificates in PATH (PEM or DER) |
/// | `--native-roots` | `SSL_CERT_FILE`, `SSL_CERT_DIR` | also trust the operating system's certificates |
///
/// ```text
/// --url ws://127.0.0.1:9000/v1/realtime?model=m Hello there
///   -> ws://127.0.0.1:9000/v1/realtime?model=m, and the rest: ["Hello", "there"]
/// ```
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub(crate) struct EndpointArgs {
    /// `--url`.
    pub(crate) url: Option<String>,
    /// `--azure-endpoint`.
    pub(crate) azure_endpoint: Option<String>,
    /// `--deployment`.
    pub(crate) deployment: Option<String>,
    /// `--api-version`.
    pub(crate) api_version: Option<String>,
    /// `--model`.
    pub(crate) model: Option<String>,
    /// `--api-key` (kept out of `Debug` once resolved: it becomes a `Secret`).
    pub(crate) api_key: Option<String>,
    /// `--dialect`.
    pub(crate) dialect: Option<Dialect>,
    /// `--proxy`.
    pub(crate) proxy: Option<String>,
    /// `--no-proxy`.
    pub(crate) no_proxy: bool,
    /// `--ca-file`.
    pub(crate) ca_file: Option<String>,
    /// `--native-roots`.
    pub(crate) native_roots: bool,
}

/// The endpoint flags do not say where to connect.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) enum EndpointArgsError {
    /// Nothing says where to connect.
    NoEndpoint,
    /// An Azure endpoint without a deployment.
    MissingDeployment,
    /// An Azure endpoint without a key.
    MissingAzureKey,
    /// A flag without its value, or a bad value.
    Usage(String),
}

impl std::fmt::Display for EndpointArgsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoEndpoint => f.write_str(
                "no endpoint configured: pass --url, or --azure-endpoint with --deployment, or set OPENAI_API_KEY (or AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT and AZURE_OPENAI_API_KEY)",
            ),
            Self::MissingDeployment => {
                f.write_str("--azure-endpoint needs --deployment (or AZURE_OPENAI_DEPLOYMENT)")
            }
            Self::MissingAzureKey => {
                f.write_str("Azure needs an API key: pass --api-key or set AZURE_OPENAI_API_KEY")
            }
            Self::Usage(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for EndpointArgsError {}

impl EndpointArgs {
    /// Takes the endpoint flags out of a command line; returns them and the other arguments.
    pub(crate) fn parse(
        args: impl IntoIterator<Item = String>,
    ) -> Result<(Self, Vec<String>), EndpointArgsError> {
        let mut endpoint = Self::default();
        let mut rest = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if arg.starts_with("--") => {
                    (flag.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            let slot = match flag.as_str() {
                "--url" => &mut endpoint.url,
                "--azure-endpoint" => &mut endpoint.azure_endpoint,
                "--deployment" => &mut endpoint.deployment,
                "--api-version" => &mut endpoint.api_version,
                "--model" => &mut endpoint.model,
                "--api-key" => &mut endpoint.api_key,
                "--proxy" => &mut endpoint.proxy,
                "--ca-file" => &mut endpoint.ca_file,
                "--no-proxy" if inline.is_none() => {
                    endpoint.no_proxy = true;
                    continue;
                }
                "--native-roots" if inline.is_none() => {
                    endpoint.native_roots = true;
                    continue;
                }
                "--dialect" => {
                    let value = inline
                        .or_else(|| args.next())
                        .ok_or_else(|| missing(&flag))?;
                    endpoint.dialect = Some(value.parse().map_err(|error| {
                        EndpointArgsError::Usage(format!("--dialect: {error}"))
                    })?);
                    continue;
                }
                _ => {
                    rest.push(arg);
                    continue;
                }
            };
            *slot = Some(
                inline
                    .or_else(|| args.next())
                    .ok_or_else(|| missing(&flag))?,
            );
        }
        Ok((endpoint, rest))
    }

    /// Whether any flag or environment variable names an endpoint.
    pub(crate) fn is_configured(&self, env: impl Fn(&str) -> Option<String>) -> bool {
        self.url.is_some()
            || self.azure_endpoint.is_some()
            || env("AZURE_OPENAI_ENDPOINT").is_some()
            || self.api_key.is_some()
            || env("OPENAI_API_KEY").is_some()
    }

    /// The connect options: flags first, then the environment (`env` looks variables up, so
    /// this function reads nothing itself).
    pub(crate) fn resolve(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ConnectOptions, EndpointArgsError> {
        let options = if let Some(url) = &self.url {
            let mut options = ConnectOptions::url(url.clone());
            if let Some(key) = &self.api_key {
                options = options.with_credential(Credential::api_key(key.clone()));
            }
            options
        } else if let Some(resource) = self
            .azure_endpoint
            .clone()
            .or_else(|| env("AZURE_OPENAI_ENDPOINT"))
        {
            let deployment = self
                .deployment
                .clone()
                .or_else(|| env("AZURE_OPENAI_DEPLOYMENT"))
                .ok_or(EndpointArgsError::MissingDeployment)?;
            let key = self
                .api_key
                .clone()
                .or_else(|| env("AZURE_OPENAI_API_KEY"))
                .ok_or(EndpointArgsError::MissingAzureKey)?;
            match &self.api_version {
                Some(version) => {
                    ConnectOptions::azure_preview(resource, deployment, version.clone(), key)
                }
                None => ConnectOptions::azure(resource, deployment, key),
            }
        } else {
            let key = self
                .api_key
                .clone()
                .or_else(|| env("OPENAI_API_KEY"))
                .ok_or(EndpointArgsError::NoEndpoint)?;
            let model = self
                .model
                .clone()
                .unwrap_or_else(|| "gpt-realtime".to_owned());
            ConnectOptions::openai(model, key)
        };
        let options = match self.dialect {
            Some(dialect) => options.with_dialect(dialect),
            None => options,
        };
        Ok(options
            .with_proxy(self.proxy_options(env)?)
            .with_tls(self.tls_options()?))
    }

    /// The proxy the flags name: `--no-proxy`, `--proxy URL` (with the environment's
    /// `NO_PROXY`, looked up through `env`), or the environment's (which the library reads
    /// when connecting).
    pub(crate) fn proxy_options(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ProxyOptions, EndpointArgsError> {
        if self.no_proxy {
            return Ok(ProxyOptions::Direct);
        }
        let Some(url) = &self.proxy else {
            return Ok(ProxyOptions::Environment);
        };
        let proxy = realtime_net::proxy::Proxy::parse(url)
            .map_err(|error| EndpointArgsError::Usage(format!("--proxy: {error}")))?;
        let no_proxy = env("NO_PROXY")
            .or_else(|| env("no_proxy"))
            .unwrap_or_default();
        Ok(ProxyOptions::Explicit(proxy.with_no_proxy(
            realtime_net::proxy::NoProxy::parse(&no_proxy),
        )))
    }

    /// The trust the flags name: the web PKI, plus `--ca-file` and `--native-roots`.
    pub(crate) fn tls_options(&self) -> Result<TlsOptions, EndpointArgsError> {
        let mut tls = TlsOptions::default();
        if self.native_roots {
            tls = tls.with_native_roots();
        }
        if let Some(path) = &self.ca_file {
            tls = tls
                .with_ca_file(path)
                .map_err(|error| EndpointArgsError::Usage(format!("--ca-file: {error}")))?;
        }
        Ok(tls)
    }
}

fn missing(flag: &str) -> EndpointArgsError {
    EndpointArgsError::Usage(format!("{flag} needs a value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> (EndpointArgs, Vec<String>) {
        EndpointArgs::parse(args.iter().map(|s| (*s).to_owned())).unwrap()
    }

    #[test]
    fn a_url_and_the_rest_of_the_line() {
        let args = [
            "--url",
            "ws://127.0.0.1:9000/v1/realtime?model=m",
            "Hello",
            "there",
        ];
        let (endpoint, rest) = EndpointArgs::parse(args.iter().map(|s| s.to_string())).unwrap();
        assert_eq!(rest, ["Hello", "there"]);
        let options = endpoint.resolve(|_| None).unwrap();
        assert_eq!(
            options.handshake.request().unwrap().url(),
            "ws://127.0.0.1:9000/v1/realtime?model=m"
        );
    }

    #[test]
    fn flags_beat_the_environment() {
        let env = |name: &str| match name {
            "OPENAI_API_KEY" => Some("sk-env".to_owned()),
            "AZURE_OPENAI_ENDPOINT" => Some("https://env.openai.azure.com".to_owned()),
            "AZURE_OPENAI_DEPLOYMENT" => Some("dep-env".to_owned()),
            "AZURE_OPENAI_API_KEY" => Some("az-env".to_owned()),
            _ => None,
        };
        let (args, rest) = parse(&[
            "--azure-endpoint=http://127.0.0.1:1",
            "--dialect",
            "beta",
            "hi",
        ]);
        assert_eq!(rest, ["hi"]);
        let request = args.resolve(env).unwrap().handshake.request().unwrap();
        assert_eq!(
            request.url(),
            "ws://127.0.0.1:1/openai/v1/realtime?model=dep-env"
        );
        assert_eq!(request.dialect(), Dialect::Beta);
        let (args, _) = parse(&["--api-version", "2025-04-01-preview", "--deployment", "d"]);
        let request = args.resolve(env).unwrap().handshake.request().unwrap();
        assert_eq!(
            request.url(),
            "wss://env.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=d"
        );
    }

    #[test]
    fn an_azure_resource_by_name() {
        let (args, _) = parse(&["--azure-endpoint", "my-resource", "--deployment", "d"]);
        let env = |name: &str| (name == "AZURE_OPENAI_API_KEY").then(|| "k".to_owned());
        let request = args.resolve(env).unwrap().handshake.request().unwrap();
        assert_eq!(
            request.url(),
            "wss://my-resource.openai.azure.com/openai/v1/realtime?model=d"
        );
    }

    #[test]
    fn proxy_and_trust_flags() {
        let (args, rest) = parse(&[
            "--proxy",
            "http://u:pw@127.0.0.1:3128",
            "--native-roots",
            "hi",
        ]);
        assert_eq!(rest, ["hi"]);
        let options = args.resolve(|_| Some("sk".to_owned())).unwrap();
        let ProxyOptions::Explicit(proxy) = &options.proxy else {
            panic!("{:?}", options.proxy);
        };
        assert_eq!(proxy.address(), "127.0.0.1:3128");
        assert!(proxy.has_credentials());
        assert!(options.tls.native_roots && options.tls.webpki_roots);
        // With --proxy, the environment's NO_PROXY still names servers to reach directly.
        let (args, _) = parse(&["--proxy", "proxy:3128"]);
        let env = |name: &str| (name == "no_proxy").then(|| ".internal".to_owned());
        let ProxyOptions::Explicit(proxy) = args.proxy_options(env).unwrap() else {
            panic!("explicit");
        };
        assert!(proxy.no_proxy().matches("a.internal", 443));
        let (args, _) = parse(&["--no-proxy", "--proxy", "http://ignored:1"]);
        assert_eq!(args.proxy_options(|_| None).unwrap(), ProxyOptions::Direct);
        let (args, _) = parse(&[]);
        assert_eq!(
            args.proxy_options(|_| None).unwrap(),
            ProxyOptions::Environment
        );
        let (args, _) = parse(&["--proxy", "socks5://h:1"]);
        assert!(
            matches!(args.proxy_options(|_| None), Err(EndpointArgsError::Usage(m)) if m.contains("--proxy"))
        );
        let (args, _) = parse(&["--ca-file", "/nonexistent/ca.pem"]);
        assert!(
            matches!(args.tls_options(), Err(EndpointArgsError::Usage(m)) if m.contains("--ca-file"))
        );
    }

    #[test]
    fn nothing_configured_says_how_to_configure() {
        let (args, _) = parse(&[]);
        assert!(!args.is_configured(|_| None));
        let error = args.resolve(|_| None).unwrap_err();
        assert_eq!(error, EndpointArgsError::NoEndpoint);
        assert!(error.to_string().contains("OPENAI_API_KEY"));
        let (args, _) = parse(&["--azure-endpoint", "https://x"]);
        assert_eq!(
            args.resolve(|_| None).unwrap_err(),
            EndpointArgsError::MissingDeployment
        );
        assert!(matches!(
            EndpointArgs::parse(["--url".to_owned()]),
            Err(EndpointArgsError::Usage(_))
        ));
        let (args, _) = parse(&["--model", "gpt-realtime-mini", "--api-key", "sk"]);
        let request = args.resolve(|_| None).unwrap().handshake.request().unwrap();
        assert_eq!(
            request.url(),
            "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini"
        );
    }
}

//! The flags every session command shares (where to connect, `--record`, `--json`), and
//! connecting: to the endpoint they name, or to the bundled mock server when they name none.

use std::path::PathBuf;
use std::time::Duration;

use realtime_mock::MockServer;
use realtime_net::handshake::redact_url;
use realtime_proto::Dialect;
use realtime_proto::connection::ReconnectPolicy;
use realtime_tokio::{ConnectError, ConnectOptions, Session, connect};

use crate::CliError;
use crate::endpoint_args::{EndpointArgs, EndpointArgsError};
use crate::session::bundled;

/// Where to connect. With none of these flags and none of their environment variables, the
/// command runs against the bundled mock server.
#[derive(Clone, Debug, Default, clap::Args)]
pub(crate) struct EndpointFlags {
    /// Any WebSocket URL: a relay, a compatible server, `realtime mock` (an HTTP proxy is
    /// `--proxy`).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// An Azure OpenAI resource: its name, or `https://NAME.openai.azure.com`
    /// [env: AZURE_OPENAI_ENDPOINT].
    #[arg(long, value_name = "NAME|URL")]
    azure_endpoint: Option<String>,
    /// The Azure deployment [env: AZURE_OPENAI_DEPLOYMENT].
    #[arg(long, value_name = "NAME")]
    deployment: Option<String>,
    /// Use Azure's preview path with this api-version (the beta dialect) instead of the GA
    /// path.
    #[arg(long, value_name = "VERSION")]
    api_version: Option<String>,
    /// The OpenAI model [default: gpt-realtime].
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// The API key [env: OPENAI_API_KEY, or AZURE_OPENAI_API_KEY for Azure].
    #[arg(long, value_name = "KEY")]
    api_key: Option<String>,
    /// The dialect, ga or beta [default: what the endpoint implies].
    #[arg(long, value_name = "DIALECT", value_parser = parse_dialect)]
    dialect: Option<Dialect>,
    #[command(flatten)]
    network: NetworkFlags,
}

/// How to reach the server: the proxy and the certificates to trust (shared by the session
/// and REST commands).
#[derive(Clone, Debug, Default, clap::Args)]
pub(crate) struct NetworkFlags {
    /// An HTTP CONNECT proxy, `http://[USER:PASSWORD@]HOST:PORT` or `https://…` (TLS to the
    /// proxy too) [default: HTTPS_PROXY / http_proxy / ALL_PROXY, minus NO_PROXY; never for
    /// loopback].
    #[arg(long, value_name = "URL", global = true)]
    pub(crate) proxy: Option<String>,
    /// Connect directly, whatever HTTPS_PROXY and the other proxy variables say.
    #[arg(long, global = true, conflicts_with = "proxy")]
    pub(crate) no_proxy: bool,
    /// Also trust the CA certificates in FILE (PEM, or one DER certificate): a private CA, or a
    /// TLS-inspecting proxy's.
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) ca_file: Option<String>,
    /// Also trust the operating system's certificate store (with SSL_CERT_FILE and
    /// SSL_CERT_DIR).
    #[arg(long, global = true)]
    pub(crate) native_roots: bool,
}

/// The flags of every session command.
#[derive(Clone, Debug, Default, clap::Args)]
pub(crate) struct SessionFlags {
    #[command(
        flatten,
        next_help_heading = "Endpoint (none given: the bundled mock server)"
    )]
    pub(crate) endpoint: EndpointFlags,
    /// Write every event, both ways, to FILE as JSON lines ({"direction": "sent"|"received",
    /// "event": {...}}), for `realtime replay` and `realtime mock --replay`.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) record: Option<PathBuf>,
    /// Print the raw events, both ways, one JSON object a line (the --record format), on
    /// standard output instead of the pretty view.
    #[arg(long, help_heading = "Output")]
    pub(crate) json: bool,
    /// Keep the conversation going when the connection drops or the session expires: connect
    /// again (exponential backoff with jitter) and restore the conversation.
    #[arg(long, help_heading = "Connection")]
    pub(crate) reconnect: bool,
    /// With --reconnect: attempts in a row before giving up.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 6,
        requires = "reconnect",
        help_heading = "Connection"
    )]
    pub(crate) reconnect_attempts: u32,
    /// With --reconnect: move to a fresh connection once the session is this many seconds
    /// old, at a pause, without going down (default 3300: OpenAI ends sessions at 60 minutes;
    /// 0: never).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 3300.0,
        value_parser = parse_seconds,
        requires = "reconnect",
        help_heading = "Connection"
    )]
    pub(crate) rotate_after: f64,
    /// At the end, print the connection's statistics: messages and bytes each way, decode
    /// warnings and errors, reconnects, and the time from each commit or response.create to
    /// the first audio and transcript deltas (on standard error with --json).
    #[arg(long, help_heading = "Output")]
    pub(crate) stats: bool,
}

/// What kind of session to open.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Purpose {
    /// A conversation (`realtime` session).
    Conversation,
    /// Transcription only (`intent=transcription`).
    Transcription,
}

/// A connected session, before its first event.
#[derive(Debug)]
pub(crate) struct Connected {
    pub(crate) session: Session,
    /// Where it is connected, secrets hidden.
    pub(crate) target: String,
    /// The bundled mock server, when no endpoint was configured; it stops when dropped.
    pub(crate) mock: Option<MockServer>,
}

fn parse_dialect(text: &str) -> Result<Dialect, String> {
    text.parse().map_err(|error| format!("{error}"))
}

/// An environment variable, if set and not blank.
fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

impl EndpointFlags {
    fn to_args(&self) -> EndpointArgs {
        let mut args = EndpointArgs::default();
        args.url.clone_from(&self.url);
        args.azure_endpoint.clone_from(&self.azure_endpoint);
        args.deployment.clone_from(&self.deployment);
        args.api_version.clone_from(&self.api_version);
        args.model.clone_from(&self.model);
        args.api_key.clone_from(&self.api_key);
        args.dialect = self.dialect;
        self.network.fill(&mut args);
        args
    }
}

impl NetworkFlags {
    /// Copies the flags into the shared endpoint arguments.
    pub(crate) fn fill(&self, args: &mut EndpointArgs) {
        args.proxy.clone_from(&self.proxy);
        args.no_proxy = self.no_proxy;
        args.ca_file.clone_from(&self.ca_file);
        args.native_roots = self.native_roots;
    }
}

/// Connects where the flags say, or to a bundled mock server when they say nowhere.
pub(crate) async fn open(
    flags: &SessionFlags,
    purpose: Purpose,
    record: bool,
) -> Result<Connected, CliError> {
    let args = flags.endpoint.to_args();
    let (mut options, mock) = if args.is_configured(env) {
        let options = args.resolve(env).map_err(endpoint_error)?;
        (options, None)
    } else {
        let mock = bundled::start().map_err(|error| {
            CliError::usage(format!("could not start the bundled mock server: {error}"))
        })?;
        let mut options = ConnectOptions::url(mock.url())
            .with_proxy(args.proxy_options(env).map_err(endpoint_error)?)
            .with_tls(args.tls_options().map_err(endpoint_error)?);
        if let Some(dialect) = args.dialect {
            options = options.with_dialect(dialect);
        }
        (options, Some(mock))
    };
    if purpose == Purpose::Transcription {
        options.handshake = options.handshake.for_transcription();
    }
    options.config.record_frames = record;
    // Drained every 100 ms at most: room for an upload at full speed in between.
    options.config.max_recorded_frames = 65_536;
    options.connect_timeout = Duration::from_secs(15);
    if flags.reconnect {
        let mut policy = ReconnectPolicy::default();
        policy.max_attempts = flags.reconnect_attempts.max(1);
        policy.rotate_after =
            (flags.rotate_after > 0.0).then(|| Duration::from_secs_f64(flags.rotate_after));
        options.config.reconnect = Some(policy);
    }
    let request = options.handshake.request().map_err(|error| {
        CliError::usage_with_hint(
            error.to_string(),
            "check --url or --azure-endpoint: wss://HOST/PATH or https://NAME.openai.azure.com",
        )
    })?;
    let target = format!("{} ({})", redact_url(request.url()), request.dialect());
    let session = connect(options)
        .await
        .map_err(|error| connect_error(error, &args))?;
    Ok(Connected {
        session,
        target,
        mock,
    })
}

fn endpoint_error(error: EndpointArgsError) -> CliError {
    let hint = match &error {
        EndpointArgsError::MissingAzureKey => {
            "set AZURE_OPENAI_API_KEY=... (or pass --api-key KEY); the key is in the Azure portal, \
             under the resource's Keys and Endpoint"
        }
        EndpointArgsError::MissingDeployment => {
            "set AZURE_OPENAI_DEPLOYMENT=NAME (or pass --deployment NAME): the name of a realtime \
             model deployment in the resource"
        }
        EndpointArgsError::NoEndpoint => {
            "set OPENAI_API_KEY=sk-... for OpenAI, or pass --url ws://... for another server"
        }
        _ => "see `realtime help` for the endpoint flags",
    };
    CliError::usage_with_hint(error.to_string(), hint)
}

/// What went wrong connecting, and what to do about it.
fn connect_error(error: ConnectError, args: &EndpointArgs) -> CliError {
    let azure = args.azure_endpoint.is_some() || env("AZURE_OPENAI_ENDPOINT").is_some();
    let hint = match &error {
        ConnectError::Rejected(rejection) => match rejection.status {
            401 | 403 if azure => "check the API key: pass --api-key KEY or set \
                 AZURE_OPENAI_API_KEY (Keys and Endpoint in the Azure portal), and that it belongs \
                 to this resource"
                .to_owned(),
            401 | 403 => "check the API key: pass --api-key KEY or set OPENAI_API_KEY (a key from \
                 platform.openai.com/api-keys, or an ephemeral client secret)"
                .to_owned(),
            404 if azure => "check the deployment name (--deployment or AZURE_OPENAI_DEPLOYMENT): \
                 it must name a realtime model deployment of this resource; and the \
                 --api-version, if given"
                .to_owned(),
            404 => "check the model name (--model) or the URL's path (--url)".to_owned(),
            _ => rejection
                .hint
                .unwrap_or("check the endpoint flags")
                .to_owned(),
        },
        ConnectError::Io { host, .. } if host.starts_with("the proxy") => {
            "is the proxy running and reachable? check --proxy or HTTPS_PROXY (--no-proxy to \
             connect directly)"
                .to_owned()
        }
        ConnectError::Io { .. } => {
            "is the server running and reachable? check --url / --azure-endpoint (and --proxy \
             or HTTPS_PROXY behind a corporate proxy)"
                .to_owned()
        }
        ConnectError::Proxy(_) => {
            "check the proxy: --proxy http://USER:PASSWORD@HOST:PORT, or HTTPS_PROXY and \
             NO_PROXY (--no-proxy to connect directly)"
                .to_owned()
        }
        ConnectError::Timeout(_) => {
            "the server did not complete the WebSocket handshake: check the URL and the network"
                .to_owned()
        }
        ConnectError::Endpoint(_) => {
            "check --url or --azure-endpoint: wss://HOST/PATH or https://NAME.openai.azure.com"
                .to_owned()
        }
        _ => "check the endpoint flags (`realtime help`)".to_owned(),
    };
    let message = match &error {
        // The library's own hint is replaced by one that names the flags.
        ConnectError::Rejected(rejection) => format!(
            "the server refused the connection: HTTP {}: {}",
            rejection.status, rejection.message
        ),
        other => other.to_string(),
    };
    CliError::usage_with_hint(message, hint)
}

/// A number of seconds, fractions allowed: zero or more, finite, under a year.
fn parse_seconds(text: &str) -> Result<f64, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !seconds.is_finite() || !(0.0..=31_536_000.0).contains(&seconds) {
        return Err(format!("{text:?}: give 0 to 31536000 seconds"));
    }
    Ok(seconds)
}

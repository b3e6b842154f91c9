//! The `realtime` binary behind proxies, offline: `--proxy`, the environment's `http_proxy`,
//! `--no-proxy`, and an Azure resource given by name, which must fail with a connection error
//! (never "invalid URL"). A small CONNECT proxy on loopback records what it is asked for and
//! forwards to the mock (it never dials the name it is given), so nothing is resolved or
//! reached beyond loopback, except one lookup of a name under the reserved `.invalid` domain.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use realtime_mock::{MockServer, Reply, Script};

const LIMIT: Duration = Duration::from_secs(30);

/// Runs `realtime ARGS` with no endpoint or proxy in the environment but `env`, killing it
/// after [`LIMIT`].
fn realtime(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = common::command(args);
    for name in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A CONNECT proxy on loopback: it records each request line; with an upstream it answers
/// 200 and pipes to it, without one it closes the connection.
fn proxy(upstream: Option<SocketAddr>) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let _ = client.set_read_timeout(Some(LIMIT));
                let mut head = Vec::new();
                let mut byte = [0; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match client.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                seen.lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or_default().to_owned());
                let Some(upstream) = upstream else { return };
                let Ok(server) = TcpStream::connect(upstream) else {
                    return;
                };
                if client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .is_err()
                {
                    return;
                }
                let _ = client.set_read_timeout(None);
                pipe(client, server);
            });
        }
    });
    (address, requests)
}

/// Copies bytes both ways until either side ends.
fn pipe(client: TcpStream, server: TcpStream) {
    let (Ok(mut client_read), Ok(mut server_read)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    let (mut client_write, mut server_write) = (client, server);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut server_write);
        let _ = server_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut server_read, &mut client_write);
    let _ = client_write.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

fn mock() -> MockServer {
    MockServer::builder()
        .script(Script::new().with_rule("hi", Reply::say("Hello from behind the proxy.")))
        .start()
        .unwrap()
}

#[test]
fn an_azure_resource_name_fails_with_a_connection_error_not_an_invalid_url() {
    // Through a proxy that hangs up: the name became the resource's host, and nothing was
    // resolved here.
    let (proxy, requests) = proxy(None);
    let output = realtime(
        &[
            "chat",
            "--azure-endpoint",
            "my-resource",
            "--deployment",
            "d",
            "--api-key",
            "k",
            "--proxy",
            &format!("http://{proxy}"),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("invalid URL"), "{stderr}");
    assert!(
        stderr.contains("closed the connection before opening the tunnel"),
        "{stderr}"
    );
    assert_eq!(
        *requests.lock().unwrap(),
        ["CONNECT my-resource.openai.azure.com:443 HTTP/1.1"]
    );
    // Directly, a name under the reserved `.invalid` domain: resolution fails, a connection
    // error.
    let output = realtime(
        &[
            "chat",
            "--azure-endpoint",
            "my-resource.invalid",
            "--deployment",
            "d",
            "--api-key",
            "k",
            "--no-proxy",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("invalid URL"), "{stderr}");
    assert!(
        stderr.contains("could not connect to my-resource.invalid:443"),
        "{stderr}"
    );
}

#[test]
fn the_proxy_flag_and_the_environment_and_the_opt_out() {
    let server = mock();
    let (proxy, requests) = proxy(Some(server.local_addr()));
    // The name is never resolved: the proxy is asked for it.
    let url = "ws://realtime.invalid/v1/realtime?model=gpt-realtime";
    let proxy_url = format!("http://{proxy}");
    let output = realtime(&["say", "hi", "--url", url, "--proxy", &proxy_url], &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Hello from behind the proxy."), "{stdout}");
    let output = realtime(&["say", "hi", "--url", url], &[("http_proxy", &proxy_url)]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        *requests.lock().unwrap(),
        [
            "CONNECT realtime.invalid:80 HTTP/1.1",
            "CONNECT realtime.invalid:80 HTTP/1.1"
        ]
    );
    // NO_PROXY names it: straight to realtime.invalid, which does not resolve.
    let output = realtime(
        &["say", "hi", "--url", url],
        &[("http_proxy", &proxy_url), ("NO_PROXY", ".invalid")],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("could not connect to realtime.invalid:80"),
        "{stderr}"
    );
    // --no-proxy: the same.
    let output = realtime(
        &["say", "hi", "--url", url, "--no-proxy"],
        &[("http_proxy", &proxy_url)],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(requests.lock().unwrap().len(), 2);
    // A proxy URL that does not parse is a usage error naming the flag.
    let output = realtime(&["say", "hi", "--url", url, "--proxy", "socks5://h:1"], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--proxy"), "{stderr}");
}

/// A private CA (written to `dir/ca.pem`) and a TLS terminator on loopback, in front of
/// `backend`, whose certificate it signed for `127.0.0.1` and `realtime.invalid`.
fn tls_front(dir: &std::path::Path, backend: SocketAddr) -> (SocketAddr, PathBuf) {
    use std::sync::Arc;

    use tokio_rustls::rustls::ServerConfig;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "realtime CLI test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "realtime.invalid".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
    let text = base64::engine::general_purpose::STANDARD.encode(ca.der());
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    let ca_file = dir.join("ca.pem");
    std::fs::write(
        &ca_file,
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        ),
    )
    .unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
    });
    (address, ca_file)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "realtime-cli-networks-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn trust_a_ca_file_or_the_native_store_with_ssl_cert_file() {
    let server = mock();
    let dir = scratch("trust");
    let (front, ca_file) = tls_front(&dir, server.local_addr());
    let ca = ca_file.to_str().unwrap();
    let url = format!(
        "wss://127.0.0.1:{}/v1/realtime?model=gpt-realtime",
        front.port()
    );
    // Not trusted: the web PKI does not know the CA.
    let output = realtime(&["say", "hi", "--url", &url], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("could not connect"), "{stderr}");
    // --ca-file.
    let output = realtime(&["say", "hi", "--url", &url, "--ca-file", ca], &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Hello from behind the proxy."), "{stdout}");
    // --native-roots, the store being SSL_CERT_FILE (rustls-native-certs reads it on every
    // platform); without the flag the variable changes nothing.
    let output = realtime(
        &["say", "hi", "--url", &url, "--native-roots"],
        &[("SSL_CERT_FILE", ca)],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = realtime(&["say", "hi", "--url", &url], &[("SSL_CERT_FILE", ca)]);
    assert_eq!(output.status.code(), Some(2));
    // A CA file that is not one is a usage error naming the flag.
    let output = realtime(
        &[
            "say",
            "hi",
            "--url",
            &url,
            "--ca-file",
            "/nonexistent/ca.pem",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--ca-file"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wss_through_the_environments_https_proxy_with_a_ca_file() {
    let server = mock();
    let dir = scratch("https-proxy");
    let (front, ca_file) = tls_front(&dir, server.local_addr());
    let (proxy, requests) = proxy(Some(front));
    // The certificate names realtime.invalid; the proxy forwards the tunnel to the terminator.
    let output = realtime(
        &[
            "say",
            "hi",
            "--url",
            "wss://realtime.invalid/v1/realtime?model=gpt-realtime",
            "--ca-file",
            ca_file.to_str().unwrap(),
        ],
        &[("HTTPS_PROXY", &format!("http://{proxy}"))],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Hello from behind the proxy."), "{stdout}");
    assert_eq!(
        *requests.lock().unwrap(),
        ["CONNECT realtime.invalid:443 HTTP/1.1"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

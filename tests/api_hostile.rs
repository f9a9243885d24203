//! Issue 19: requests an unauthenticated stranger can send do not take the service down. The
//! plan's parameters are bounded and named when wrong (`teams=4294967295` once aborted the
//! process allocating 32 GiB).

use serde_json::Value;
use vigil::app::Engine;
use vigil::config::Config;

/// The API of an engine with `config`, on a free port of 127.0.0.1.
struct Api {
    addr: std::net::SocketAddr,
    shutdown: tokio_util::sync::CancellationToken,
    server: tokio::task::JoinHandle<Result<(), vigil::error::IoError>>,
    _engine: Engine,
}

impl Api {
    async fn start(config: &Config) -> Api {
        let engine = Engine::new(config);
        let shutdown = tokio_util::sync::CancellationToken::new();
        let (addr, server) = engine
            .spawn_api("127.0.0.1:0", shutdown.clone())
            .await
            .unwrap();
        Api {
            addr,
            shutdown,
            server,
            _engine: engine,
        }
    }

    /// Cancels the server; an event stream a client left may hold it until its next write.
    async fn stop(self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.server).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_plan_parameters_are_answered_400_naming_the_parameter() {
    let api = Api::start(&Config::default()).await;
    let addr = api.addr;
    let http = reqwest::Client::new();
    let plan = |query: &str| {
        let url = format!("http://{addr}/api/enforcement/plan?{query}");
        let http = http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    for (query, parameter) in [
        (
            "region=330102&date=2026-12-07&capacity=1&teams=4294967295",
            "teams",
        ),
        (
            "region=330102&date=2026-12-07&capacity=4294967295",
            "capacity",
        ),
        ("region=330102&date=9999-01-01&capacity=1", "date"),
        ("region=330102&capacity=1", "date"),
        ("region=330102&date=2026-12-07&capacity=1&seed=-5", "seed"),
    ] {
        let (status, body) = plan(query).await;
        assert_eq!(status, 400, "{query}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["parameter"], parameter, "{query}: {body}");
    }
    let (status, body) = plan("region=330102&date=2026-12-07&capacity=3&teams=1000").await;
    assert_eq!(status, 200, "{body}");
    let made: Value = serde_json::from_str(&body).unwrap();
    assert_ne!(made["seed"], 0, "the default seed is a keyed hash, not 0");
    assert_eq!(made["teams"], 1000);
    // Still alive.
    let health = http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    api.stop().await;
}

/// Issue 19, item 8: event streams are bounded; a closed one frees its slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_beyond_the_cap_are_answered_503() {
    let mut config = Config::default();
    config.api.max_sse_clients = 2;
    let api = Api::start(&config).await;
    let addr = api.addr;
    let http = reqwest::Client::new();
    let open = |path: &'static str| {
        let http = http.clone();
        async move {
            http.get(format!("http://{addr}{path}"))
                .send()
                .await
                .unwrap()
        }
    };
    let first = open("/api/warnings/stream").await;
    let second = open("/api/risk/stream").await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    assert_eq!(open("/api/risk/stream").await.status().as_u16(), 503);
    drop(first);
    let mut reopened = 0;
    // The server notices a closed stream at its next write at the latest (a keep-alive every
    // 15 s).
    for _ in 0..250 {
        let again = open("/api/warnings/stream").await;
        if again.status().as_u16() == 200 {
            reopened += 1;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(reopened, 1, "a closed stream frees its slot");
    drop(second);
    api.stop().await;
}

/// Issue 19, item 9: with a read token, nothing but health and the map's static files is
/// readable without it; writes need the write token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_read_token_only_health_and_static_files_are_open() {
    let mut config = Config::default();
    config.api.read_token = "read-secret".into();
    config.api.write_token = "write-secret".into();
    let api = Api::start(&config).await;
    let addr = api.addr;
    let http = reqwest::Client::new();
    let status = |path: &str, token: Option<&str>| {
        let mut request = http.get(format!("http://{addr}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for path in ["/healthz", "/", "/map.js", "/map.css", "/vendor/leaflet.js"] {
        assert_eq!(status(path, None).await, 200, "{path}");
    }
    for path in [
        "/metrics",
        "/api/status",
        "/api/risk",
        "/api/regions",
        "/api/warnings",
        "/api/silences",
        "/api/enforcement/snapshot",
        "/api/map",
    ] {
        assert_eq!(status(path, None).await, 401, "{path}");
        assert_eq!(status(path, Some("wrong")).await, 401, "{path}");
        assert_eq!(status(path, Some("read-secret")).await, 200, "{path}");
        assert_eq!(status(path, Some("write-secret")).await, 200, "{path}");
    }
    let stream = http
        .get(format!(
            "http://{addr}/api/risk/stream?access_token=read-secret"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    drop(stream);
    let silence = serde_json::json!({
        "rule_id": "r02_gas_leak", "starts_at": "2026-12-01T00:00:00Z",
        "ends_at": "2026-12-02T00:00:00Z", "created_by": "test"
    });
    let post = |token: &'static str| {
        http.post(format!("http://{addr}/api/silences"))
            .bearer_auth(token)
            .json(&silence)
            .send()
    };
    assert_eq!(post("read-secret").await.unwrap().status().as_u16(), 401);
    assert_eq!(post("write-secret").await.unwrap().status().as_u16(), 201);
    api.stop().await;
}

/// Issue 19, item 9: with a certificate and key the API speaks HTTPS only, so tokens never
/// travel in clear text. The certificate is made by `openssl` (Debian's, which
/// ca-certificates brings).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_certificate_the_api_speaks_https_only() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name);
    let (ca, cert, key) = (file("ca.pem"), file("cert.pem"), file("key.pem"));
    std::fs::write(
        file("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let openssl = |args: &[&str]| {
        let made = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("openssl runs");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=vigil test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "leaf.ext",
        "-out",
        "cert.pem",
    ]);
    let mut config = Config::default();
    config.api.tls_cert = cert.display().to_string();
    config.api.tls_key = key.display().to_string();
    config.api.read_token = "read-secret".into();
    let api = Api::start(&config).await;
    let addr = api.addr;
    // A connection that never says hello holds up nobody.
    let _silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let trusted = reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap();
    let https = reqwest::Client::builder()
        .add_root_certificate(trusted)
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let status = https
        .get(format!("https://{addr}/api/status"))
        .bearer_auth("read-secret")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200);
    let plain = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP is not answered: {plain:?}");
    api.stop().await;
}

/// The API has its own threads: a runtime whose every worker is held (as a busy ingest loop
/// holds its worker) does not keep it from answering.
#[tokio::test(flavor = "current_thread")]
async fn the_api_answers_while_the_ingest_loops_runtime_is_held() {
    use std::io::{Read, Write};
    let api = Api::start(&Config::default()).await;
    let addr = api.addr;
    // Joining blocks this runtime's only thread until the request is answered or gives up.
    let answer = std::thread::spawn(move || {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: vigil\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let _ = tcp.read_to_string(&mut answer);
        answer
    })
    .join()
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "answer: {answer:?}");
    api.stop().await;
}

/// `GET /api/map`, as JSON.
async fn map_shapes(addr: std::net::SocketAddr) -> Value {
    let response = reqwest::get(format!("http://{addr}/api/map"))
        .await
        .unwrap();
    response.json().await.unwrap()
}

/// The map's libraries are served from the binary with their licences, and nothing else under
/// `/vendor/`; a boundaries file is checked before the API starts: a broken one stops it with
/// a message naming `map.boundaries`, a good one is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_serves_its_libraries_and_checks_its_boundaries() {
    let api = Api::start(&Config::default()).await;
    let addr = api.addr;
    for (file, kind) in [
        ("leaflet.js", "text/javascript"),
        ("leaflet.markercluster.js", "text/javascript"),
        ("d3-delaunay.min.js", "text/javascript"),
        ("leaflet.css", "text/css"),
        ("LICENSES.txt", "text/plain"),
    ] {
        let response = reqwest::get(format!("http://{addr}/vendor/{file}"))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{file}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with(kind), "{file}: {content_type}");
    }
    let licences = reqwest::get(format!("http://{addr}/vendor/LICENSES.txt"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(licences.contains("BSD 2-Clause") && licences.contains("ISC"));
    for bad in ["../Cargo.toml", "map.js", "leaflet.js.map"] {
        let response = reqwest::get(format!("http://{addr}/vendor/{bad}"))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404, "{bad}");
    }
    let shapes = map_shapes(addr).await;
    assert_eq!(shapes["outlines"], "positions");
    api.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("counties.geojson");
    std::fs::write(
        &good,
        r#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"region_id": "330102"},
            "geometry": {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3], [120.1, 30.2]]]}}]}"#,
    )
    .unwrap();
    let mut config = Config::default();
    config.map.boundaries = good.display().to_string();
    let api = Api::start(&config).await;
    let shapes = map_shapes(api.addr).await;
    assert_eq!(shapes["outlines"], "boundaries");
    api.stop().await;

    let bad = dir.path().join("bad.geojson");
    std::fs::write(&bad, r#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"region_id": "330102"}, "geometry": {"type": "Polygon", "coordinates": [[[520.1, 30.2]]]}}]}"#).unwrap();
    config.map.boundaries = bad.display().to_string();
    let engine = Engine::new(&config);
    let refused = engine
        .spawn_api("127.0.0.1:0", tokio_util::sync::CancellationToken::new())
        .await
        .expect_err("a broken boundaries file stops the API");
    assert!(refused.to_string().contains("map.boundaries"), "{refused}");
}

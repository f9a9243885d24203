//! Issues 6 and 23: the four-colour map in a real browser. Starts `vigil demo`, loads `/` in
//! headless Chromium (driven over the DevTools protocol), and checks that the markers, their
//! colours and letters and the colour counts match `/api/risk`, that the counties are drawn,
//! that clusters take their worst member's colour and a click on one zooms in, that the page
//! goes live, that deep links and clicks open an enterprise's and a county's breakdowns, that
//! the page weighs at most 1 MB and logs no error. Saves screenshots of the province, a county
//! and an enterprise as test artefacts.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::process::Running;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

fn start_demo(addr: &str) -> Running {
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/queries");
    Running(
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .env("VIGIL__RULES__DIR", rules)
            .env("VIGIL__RULES__WATCH", "false")
            .args([
                "demo",
                "--addr",
                addr,
                "--speed",
                "60",
                "--enterprises",
                "40",
            ])
            .args(["--scenario-every", "1m"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("vigil demo starts"),
    )
}

/// Starts headless Chromium with the DevTools protocol on a free loopback port; returns it
/// and the port's address.
fn start_chromium(profile: &std::path::Path) -> (Running, String) {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=1400,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium is installed (Debian package `chromium`; .ci/setup installs it)");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.split("DevTools listening on ").nth(1) {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let ws = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("chromium announces its DevTools port");
    let host = ws
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    (Running(child), host)
}

/// A DevTools session on one page.
struct Page {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
    /// Exceptions and console errors the page reported, as they passed by.
    errors: Vec<String>,
}

impl Page {
    async fn open(host: &str) -> Page {
        let targets: Vec<Value> = reqwest::get(format!("http://{host}/json/list"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let page = targets
            .iter()
            .find(|t| t["type"] == "page")
            .expect("a page target");
        let url = page["webSocketDebuggerUrl"].as_str().unwrap();
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Page {
            ws,
            next_id: 0,
            errors: Vec::new(),
        }
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(Message::text(message)).await.unwrap();
        loop {
            let reply = self.ws.next().await.expect("devtools answers").unwrap();
            let Message::Text(text) = reply else { continue };
            let value: Value = serde_json::from_str(&text).unwrap();
            let error = match value["method"].as_str() {
                Some("Runtime.exceptionThrown") => Some(&value["params"]["exceptionDetails"]),
                Some("Runtime.consoleAPICalled") if value["params"]["type"] == "error" => {
                    Some(&value["params"]["args"])
                }
                Some("Log.entryAdded") if value["params"]["entry"]["level"] == "error" => {
                    Some(&value["params"]["entry"])
                }
                _ => None,
            };
            if let Some(error) = error {
                self.errors.push(error.to_string());
            }
            if value["id"] == id {
                assert!(value.get("error").is_none(), "{method}: {value}");
                return value["result"].clone();
            }
        }
    }

    /// Evaluates a JavaScript expression that returns JSON text, and parses it.
    async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        let text = result["result"]["value"]
            .as_str()
            .unwrap_or("null")
            .to_owned();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn wait_for(&mut self, expression: &str, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let value = self.eval(expression).await;
            if !value.is_null() && value != json!(false) {
                return value;
            }
            assert!(Instant::now() < deadline, "the page never showed {what}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

const DOM_STATE: &str = r#"JSON.stringify({
  counts: Object.fromEntries(["red","orange","yellow","blue"].map(c => [c, +document.getElementById("count-" + c).textContent])),
  points: vigil.points(),
  regions: document.querySelectorAll(".region").length
})"#;

/// Every enterprise of the API is a point of its colour.
fn shows(dom: &Value, api: &serde_json::Map<String, Value>) -> bool {
    let points = &dom["points"];
    points.as_object().is_some_and(|p| p.len() == api.len())
        && api.iter().all(|(id, color)| points[id][0] == *color)
}

async fn api_colors(addr: &str) -> serde_json::Map<String, Value> {
    let risk: Vec<Value> = reqwest::get(format!("http://{addr}/api/risk"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    risk.into_iter()
        .map(|r| {
            (
                r["enterprise_id"].as_str().unwrap().to_owned(),
                r["color"].clone(),
            )
        })
        .collect()
}

/// Waits until the demo has every enterprise scored, the counties indexed, and one enterprise
/// off blue (an injected incident); returns that enterprise.
async fn wait_for_colours(addr: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(response) = reqwest::get(format!("http://{addr}/api/risk")).await {
            let risk: Vec<Value> = response.json().await.unwrap_or_default();
            let regions: Value = reqwest::get(format!("http://{addr}/api/map"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let coloured = risk.iter().find(|r| r["color"] != "blue");
            if let (40, Some(r), true) = (
                risk.len(),
                coloured,
                regions["regions"].as_array().is_some_and(|a| !a.is_empty()),
            ) {
                return r["enterprise_id"].as_str().unwrap().to_owned();
            }
        }
        assert!(
            Instant::now() < deadline,
            "the demo never coloured an enterprise"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

impl Page {
    /// The page as the user sees it once the map stops moving.
    async fn screenshot(&mut self, name: &str) {
        self.wait_for(
            "JSON.stringify(!vigil.map()._animatingZoom)",
            "the map at rest",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.png"));
        std::fs::write(&path, &png).unwrap();
        println!("screenshot: {}", path.display());
        assert!(png.len() > 10_000, "a real screenshot");
    }

    async fn open_url(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
        self.wait_for(
            "JSON.stringify(document.body.dataset.ready === 'true')",
            "ready",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_shows_the_live_four_colour_picture_and_drills_down() {
    let addr = format!("127.0.0.1:{}", common::free_port());
    let _demo = start_demo(&addr);
    let coloured = wait_for_colours(&addr).await;
    let profile = tempfile::tempdir().unwrap();
    let (_chromium, host) = start_chromium(profile.path());
    let mut page = Page::open(&host).await;
    for domain in ["Runtime.enable", "Log.enable"] {
        page.call(domain, json!({})).await;
    }
    page.open_url(&format!("http://{addr}/")).await;
    page.wait_for(
        "JSON.stringify(document.getElementById('live').dataset.state === 'live')",
        "its live stream open",
    )
    .await;

    // The page's markers against the API, read between two API reads that agree (the demo
    // moves on, and the page hears of a change a moment after the API has it: retry until
    // they meet).
    let mut attempts = 0;
    let (dom, api) = loop {
        let before = api_colors(&addr).await;
        let dom = page.eval(DOM_STATE).await;
        let after = api_colors(&addr).await;
        if before == after && shows(&dom, &after) {
            break (dom, after);
        }
        attempts += 1;
        assert!(
            attempts < 30,
            "the page never showed the API's picture:\n{dom:#}\n{after:#?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let points = dom["points"].as_object().unwrap();
    assert_eq!(points.len(), api.len(), "one marker per enterprise");
    for (id, color) in &api {
        let point = &points[id];
        assert_eq!(&point[0], color, "{id}'s colour");
        let letter = color.as_str().unwrap()[..1].to_uppercase();
        assert_eq!(
            point[1],
            letter.as_str(),
            "{id} is labelled, not only coloured"
        );
    }
    for color in ["red", "orange", "yellow", "blue"] {
        let expected = api.values().filter(|c| *c == color).count();
        assert_eq!(dom["counts"][color], expected, "{color} count");
    }
    assert!(dom["regions"].as_u64() > Some(0), "counties drawn");
    page.screenshot("map_province").await;

    // The enterprises table lists every enterprise the filters show, by ERI, highest first;
    // a click on a column sorts by it.
    let top = page
        .wait_for(
            "JSON.stringify(document.querySelector('#enterprise-table tbody tr') && {total: +document.getElementById('table-count').dataset.total, eri: [...document.querySelectorAll('#enterprise-table tbody tr')].map(r => +r.children[3].textContent)})",
            "the enterprises table",
        )
        .await;
    assert_eq!(top["total"], api.len(), "one row per enterprise");
    let eri: Vec<f64> = top["eri"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        eri.windows(2).all(|w| w[0] >= w[1]),
        "sorted by ERI: {eri:?}"
    );
    page.eval(
        "document.querySelector('#enterprise-table th[data-sort=\"warnings\"]').click(); 'true'",
    )
    .await;
    let by_warnings = page
        .eval("JSON.stringify([...document.querySelectorAll('#enterprise-table tbody tr')].map(r => +r.children[4].textContent))")
        .await;
    let counts: Vec<u64> = by_warnings
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "sorted by open warnings: {counts:?}"
    );
    // The warnings panel filters by colour.
    let filtered = page
        .eval("const c = document.querySelector('#feed li') && document.querySelector('#feed li').dataset.color; if (c) { document.getElementById('feed-color').value = c; document.getElementById('feed-color').dispatchEvent(new Event('change')); } JSON.stringify({c, colours: [...document.querySelectorAll('#feed li')].map(l => l.dataset.color)})")
        .await;
    if let Some(color) = filtered["c"].as_str() {
        let colours = filtered["colours"].as_array().unwrap();
        assert!(
            !colours.is_empty() && colours.iter().all(|c| c == color),
            "{filtered}"
        );
    }

    // Zoomed out, the markers cluster; each cluster takes its worst member's colour, and a
    // click on the worst one zooms into it.
    let zoomed_out = page
        .eval("const z = vigil.zoom() - 3; vigil.map().setZoom(z); JSON.stringify(z)")
        .await;
    // Once the zoom and the clusters' animation settle, each enterprise is counted once:
    // in a cluster on screen or as a marker of its own.
    let settled = format!(
        "JSON.stringify(vigil.zoom() === {zoomed_out} && !vigil.map()._animatingZoom && vigil.clusters().length > 0 && vigil.clusters().reduce((s, c) => s + c.size, 0) + vigil.shown('.enterprise').length === {} && vigil.clusters())",
        api.len()
    );
    let clusters = page
        .wait_for(&settled, "the clusters of the whole province")
        .await;
    let worst = ["red", "orange", "yellow", "blue"]
        .into_iter()
        .find(|c| api.values().any(|v| v == c))
        .unwrap();
    assert!(
        clusters
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["worst"] == worst),
        "a cluster shows the worst colour, {worst}: {clusters}"
    );
    let zoom = page.eval("JSON.stringify(vigil.zoom())").await;
    page.eval(&format!(
        "[...document.querySelectorAll('.cluster.{worst}')].sort((a, b) => +b.querySelector('b').textContent - +a.querySelector('b').textContent)[0].dispatchEvent(new MouseEvent('click', {{bubbles: true}})); 'true'"
    ))
    .await;
    page.wait_for(
        &format!("JSON.stringify(vigil.zoom() > {zoom} && !vigil.map()._animatingZoom)"),
        "the map zoomed into the cluster",
    )
    .await;

    // A deep link opens the coloured enterprise's card, its code broken into its terms.
    page.open_url(&format!("http://{addr}/#enterprise={coloured}"))
        .await;
    let detail = page
        .wait_for(
            &format!("JSON.stringify(document.querySelector('#detail-title[data-enterprise=\"{coloured}\"]') && {{rows: document.querySelectorAll('#detail-terms tr').length, text: document.getElementById('detail').textContent}})"),
            "the enterprise's breakdown",
        )
        .await;
    assert_eq!(detail["rows"], 10, "I, D and its five parts, M, E, ERI");
    // Its index over the last day, a point per quarter hour computed, as the API has it.
    let history: Value = reqwest::get(format!("http://{addr}/api/risk/{coloured}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let points = history["history"].as_array().unwrap().len();
    assert!((1..=97).contains(&points), "{history}");
    let drawn = page
        .eval("JSON.stringify(+document.getElementById('detail-history').dataset.points)")
        .await;
    assert!(drawn.as_u64().is_some_and(|n| n >= 1), "{drawn}");
    let text = detail["text"].as_str().unwrap();
    assert!(
        text.contains("Active warnings") && text.contains("Permits in progress"),
        "{text}"
    );
    page.wait_for(
        &format!(
            "JSON.stringify(!!document.querySelector('.enterprise span[data-id=\"{coloured}\"]'))"
        ),
        "the enterprise's marker, zoomed to",
    )
    .await;
    page.screenshot("map_enterprise").await;

    // Click a county: its control index components and quota ledger, and the link to them.
    page.eval("document.querySelector('.region').dispatchEvent(new MouseEvent('click', {bubbles: true})); 'true'")
        .await;
    let region = page
        .wait_for(
            "JSON.stringify(document.querySelector('#detail-title[data-region]') && {cpi: document.querySelectorAll('#detail-cpi tr').length, quotas: document.querySelectorAll('#detail-quotas tr').length, hash: location.hash})",
            "the county's breakdown",
        )
        .await;
    assert_eq!(region["cpi"], 6);
    assert_eq!(region["quotas"], 3);
    // The county card carries today's inspection plan.
    let plan = page
        .wait_for(
            "JSON.stringify(document.getElementById('detail-plan-tasks') && {tasks: +document.getElementById('detail-plan-tasks').dataset.tasks, hint: document.querySelector('#detail-plan .hint').textContent})",
            "the county's plan",
        )
        .await;
    assert!(plan["hint"].as_str().unwrap().contains("tasks"), "{plan}");
    assert!(
        region["hash"].as_str().unwrap().starts_with("#region="),
        "{region}"
    );
    page.screenshot("map_county").await;

    // Everything the page loaded, the libraries included, within 1 MB.
    let bytes = page
        .eval("JSON.stringify(performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).reduce((s, e) => s + (e.encodedBodySize || 0), 0))")
        .await;
    let bytes = bytes.as_u64().unwrap();
    println!("page weight: {bytes} bytes");
    assert!(bytes > 100_000 && bytes <= 1 << 20, "page weight {bytes}");
    assert!(page.errors.is_empty(), "console errors: {:#?}", page.errors);
}

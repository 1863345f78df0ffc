//! The web console as a browser fetches it from the real server, without a browser: the page,
//! every style sheet and script it loads and every module those import, each with its content
//! type, without the token and within the page-weight budget; the API stays closed.

#![cfg(feature = "console")]
#![expect(clippy::expect_used, reason = "a test: a failure is a failed test")]

mod support;

use std::collections::BTreeMap;

use support::Server;

const TOKEN: &str = "console-t0ken";
/// What the console may weigh, every file it loads together.
const PAGE_WEIGHT_BUDGET: usize = 200 * 1024;

/// One file as served: its content type and its bytes.
struct Served {
    content_type: String,
    body: String,
}

async fn fetch(client: &reqwest::Client, server: &Server, path: &str) -> Served {
    let response = client
        .get(format!("http://{}{path}", server.addr))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200, "GET {path}");
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff", "GET {path}");
    Served {
        content_type: headers["content-type"].to_str().expect("ASCII").to_owned(),
        body: response.text().await.expect("a UTF-8 body"),
    }
}

/// The values of `attribute="..."` in `html`.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let opening = format!("{attribute}=\"");
    html.split(&opening)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

/// The files `html` loads: its style sheets and scripts, as paths under `/ui/`.
fn loaded_by_page(html: &str) -> Vec<String> {
    let sources = attribute_values(html, "src").into_iter();
    let links = attribute_values(html, "href").into_iter();
    sources
        .chain(links)
        .filter(|target| target.ends_with(".js") || target.ends_with(".css"))
        .map(|target| format!("/ui/{target}"))
        .collect()
}

/// The modules a script at `/ui/js/...` imports (`import ... from "./x.js";`).
fn imported_by_script(script: &str) -> Vec<String> {
    script
        .lines()
        .filter(|line| line.starts_with("import "))
        .filter_map(|line| line.split('"').nth(1))
        .map(|module| format!("/ui/js/{}", module.trim_start_matches("./")))
        .collect()
}

fn expected_content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "text/html; charset=utf-8",
    }
}

#[tokio::test]
async fn the_console_and_all_it_loads_are_served_without_the_token_within_200_kb() {
    let data = tempfile::tempdir().expect("a temporary directory");
    let config = data.path().join("config.yaml");
    std::fs::write(&config, format!("server:\n  auth_token: {TOKEN}\n")).expect("written");
    let server = Server::start(data.path(), &["--config", &config.to_string_lossy()]).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");

    let page = fetch(&client, &server, "/ui/").await;
    assert_eq!(page.content_type, expected_content_type("/ui/"));
    assert!(page.body.starts_with("<!doctype html>"), "{}", page.body);
    let mut pending = loaded_by_page(&page.body);
    assert!(pending.contains(&"/ui/js/app.js".to_owned()), "{pending:?}");
    assert!(pending.contains(&"/ui/style.css".to_owned()), "{pending:?}");
    let mut served = BTreeMap::from([("/ui/".to_owned(), page.body.len())]);
    while let Some(path) = pending.pop() {
        if served.contains_key(&path) {
            continue;
        }
        let file = fetch(&client, &server, &path).await;
        assert_eq!(
            file.content_type,
            expected_content_type(&path),
            "GET {path}"
        );
        pending.extend(imported_by_script(&file.body));
        served.insert(path, file.body.len());
    }
    let weight: usize = served.values().sum();
    assert!(
        weight < PAGE_WEIGHT_BUDGET,
        "the console weighs {weight} bytes: {served:?}"
    );
    assert!(served.len() > 3, "{served:?}");

    let redirect = client
        .get(format!("http://{}/ui", server.addr))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "ui/");
    let page_headers = client
        .get(format!("http://{}/ui/", server.addr))
        .send()
        .await
        .expect("the server answers");
    let policy = page_headers.headers()["content-security-policy"]
        .to_str()
        .expect("ASCII");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert_eq!(server.get("/ui/js/no-such-module.js").await.0, 404);
    assert_eq!(server.get("/pipelines").await.0, 401);
}

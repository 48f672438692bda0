//! The seed: Tornado's founding example in squall's shape. README.md shows `seed` below
//! verbatim, and `tests/docs/readme.rs` runs it against a loopback server, so the README's
//! example cannot rot.
//!
//! Run it against any server: `cargo run --example seed -- http://127.0.0.1:8000`.

use squall::escape::json_decode;
use squall::{AsyncHttpClient, HttpRequest, IoLoop};

// README-BEGIN
pub async fn seed(base: &str) -> Result<(), Box<dyn std::error::Error>> {
    let client = AsyncHttpClient::new();

    // GET, and the body as text.
    let response = client.fetch(format!("{base}/hello")).await?;
    println!("{}", response.text()?);

    // POST with a User-Agent header and a body.
    let request = HttpRequest::new(&format!("{base}/echo"))
        .method("POST")
        .header("User-Agent", "seed/1.0")
        .body("hello from squall");
    let response = client.fetch(request).await?;

    // The reply is JSON: decode it.
    let reply: serde_json::Value = json_decode(&response.body)?;
    println!("the server saw {}", reply["user_agent"]);
    Ok(())
}
// README-END

fn main() {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8000".into());
    if let Err(err) = IoLoop::current().run_sync(seed(&base)) {
        eprintln!("seed: {err}");
        std::process::exit(1);
    }
}

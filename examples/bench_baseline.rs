//! The bare-axum baseline of `benches/http_load.sh`: the same two routes as
//! the API, answering with bytes captured from the real server, so the load
//! test measures what patchbay adds (store read, rendering) and nothing else.
//!
//! `bench_baseline LISTEN ONE_JSON LIST_JSON`

use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, one, list] = args.as_slice() else {
        return Err("usage: bench_baseline LISTEN ONE_JSON LIST_JSON".into());
    };
    let one = Bytes::from(std::fs::read(one)?);
    let list = Bytes::from(std::fs::read(list)?);
    let app = Router::new()
        .route(
            "/api/v1/connection_profiles",
            get(move || reply(list.clone())),
        )
        .route(
            "/api/v1/connection_profiles/{id}",
            get(move || reply(one.clone())),
        );
    let listener = tokio::net::TcpListener::bind(listen.as_str()).await?;
    println!("baseline listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(patchbay_http::shutdown_signal())
        .await?;
    Ok(())
}

async fn reply(body: Bytes) -> ([(header::HeaderName, &'static str); 1], Bytes) {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

//! Small servers on 127.0.0.1 at a free port.

/// Serves `router` on 127.0.0.1 at a free port for as long as the runtime lives; returns its
/// base URL (`http://127.0.0.1:PORT`, no trailing `/`).
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port on 127.0.0.1");
    let base = format!("http://{}", listener.local_addr().expect("a bound address"));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("the test server runs") });
    base
}

/// A port of 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port on 127.0.0.1")
}

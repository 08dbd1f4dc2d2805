//! The shop's `/metrics`: what the SDK records through the `metrics` facade, in Prometheus' text
//! format, for Prometheus to scrape and Grafana to draw (docs/grafana, docs/prometheus).

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Upper bounds of the duration histograms' buckets, in seconds: from a check answered on
/// loopback to a handler close to its timeout.
const BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The process's Prometheus recorder, installed on first use. `None` when another recorder was
/// installed first (a program embedding the demo): `/metrics` then says so.
pub(crate) fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new().set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS);
            let recorder = match builder {
                Ok(builder) => builder.build_recorder(),
                Err(error) => {
                    tracing::error!(%error, "the Prometheus recorder could not be built; /metrics is off");
                    return None;
                }
            };
            let handle = recorder.handle();
            if let Err(error) = metrics::set_global_recorder(recorder) {
                tracing::warn!(%error, "another metrics recorder is installed; /metrics is off");
                return None;
            }
            // Histograms keep their samples until upkeep folds them into the buckets.
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .map_err(|error| tracing::warn!(%error, "no upkeep thread; histograms fold at each scrape"))
                .ok();
            Some(handle)
        })
        .clone()
}

/// `GET /metrics`.
pub(crate) fn routes() -> Router {
    Router::new().route(
        "/metrics",
        get(|| async {
            match prometheus() {
                Some(handle) => {
                    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
                }
                None => {
                    (StatusCode::NOT_FOUND, "another metrics recorder is installed in this process\n").into_response()
                }
            }
        }),
    )
}

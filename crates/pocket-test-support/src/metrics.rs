//! Capturing what a piece of code records through the `metrics` facade, for tests that assert
//! exact values: the code runs on a runtime of its own, on one thread, with a recorder local to
//! that thread — so tests running side by side never see each other's metrics.

use std::future::Future;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::{CompositeKey, MetricKind};

/// What was recorded, by metric and labels.
pub struct Recorded {
    entries: Vec<(CompositeKey, DebugValue)>,
}

/// Runs `future` to its end on a single-threaded runtime with a recorder of its own (every task
/// it spawns runs on that thread, and records there too); returns its output and what it
/// recorded.
pub fn recorded<F: Future>(future: F) -> (F::Output, Recorded) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a test runtime");
    let output = metrics::with_local_recorder(&recorder, || runtime.block_on(future));
    (output, snapshot(&snapshotter))
}

fn snapshot(snapshotter: &Snapshotter) -> Recorded {
    let entries = snapshotter.snapshot().into_vec().into_iter().map(|(key, _, _, value)| (key, value)).collect();
    Recorded { entries }
}

fn labels_match(key: &CompositeKey, labels: &[(&str, &str)]) -> bool {
    let mut have: Vec<(&str, &str)> = key.key().labels().map(|label| (label.key(), label.value())).collect();
    let mut want = labels.to_vec();
    have.sort_unstable();
    want.sort_unstable();
    have == want
}

impl Recorded {
    fn find(&self, kind: MetricKind, name: &str, labels: &[(&str, &str)]) -> Option<&DebugValue> {
        self.entries
            .iter()
            .find(|(key, _)| key.kind() == kind && key.key().name() == name && labels_match(key, labels))
            .map(|(_, value)| value)
    }

    /// The counter `name` with exactly these labels (0 if it was never recorded).
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.find(MetricKind::Counter, name, labels) {
            Some(DebugValue::Counter(value)) => *value,
            _ => 0,
        }
    }

    /// The sum of the counter `name` over all its labels.
    pub fn counter_total(&self, name: &str) -> u64 {
        self.entries
            .iter()
            .filter(|(key, _)| key.kind() == MetricKind::Counter && key.key().name() == name)
            .map(|(_, value)| if let DebugValue::Counter(value) = value { *value } else { 0 })
            .sum()
    }

    /// The gauge `name` with these labels, if it was set.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.find(MetricKind::Gauge, name, labels) {
            Some(DebugValue::Gauge(value)) => Some(value.into_inner()),
            _ => None,
        }
    }

    /// The values the histogram `name` with these labels recorded.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        match self.find(MetricKind::Histogram, name, labels) {
            Some(DebugValue::Histogram(values)) => values.iter().map(|value| value.into_inner()).collect(),
            _ => Vec::new(),
        }
    }

    /// Every label set of metric `name`, as `key=value` lists (to check cardinality).
    pub fn label_sets(&self, name: &str) -> Vec<Vec<String>> {
        self.entries
            .iter()
            .filter(|(key, _)| key.key().name() == name)
            .map(|(key, _)| key.key().labels().map(|label| format!("{}={}", label.key(), label.value())).collect())
            .collect()
    }

    /// The name of every metric recorded.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.entries.iter().map(|(key, _)| key.key().name().to_owned()).collect();
        names.sort();
        names.dedup();
        names
    }
}

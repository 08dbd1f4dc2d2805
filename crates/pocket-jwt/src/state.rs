//! Small helpers for shared state.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, carrying on if a panicking thread poisoned it: every update here leaves the
/// data consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

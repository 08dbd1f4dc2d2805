//! Every item of a paged listing, as one stream — safe against a server that ignores paging.

use std::collections::VecDeque;

use futures_util::Stream;
use pocket_core::{Error, ErrorKind, Page};

/// No listing of a merchant's branches or terminals has more pages than this; a server that
/// never says "last" is stopped here with an error rather than followed forever.
const MAX_PAGES: u32 = 10_000;

struct Cursor<T, F> {
    fetch: F,
    next: Option<u32>,
    ready: VecDeque<T>,
    previous: Option<Vec<T>>,
}

/// Fetches page 0, 1, … with `fetch` and yields their items in order. Stops after a page that
/// is empty, says it is the last, or is numbered at or past the page count; after a page that
/// repeats the one before it or carries another number than was asked for (a server that
/// ignores the page parameter); and with an error after [`MAX_PAGES`] pages or at the first
/// failed fetch.
pub(crate) fn every_item<T, F, Fut>(fetch: F) -> impl Stream<Item = Result<T, Error>> + Send
where
    T: Clone + PartialEq + Send,
    F: FnMut(u32) -> Fut + Send,
    Fut: Future<Output = Result<Page<T>, Error>> + Send,
{
    let cursor = Cursor { fetch, next: Some(0), ready: VecDeque::new(), previous: None };
    futures_util::stream::unfold(cursor, |mut cursor| async move {
        loop {
            if let Some(item) = cursor.ready.pop_front() {
                return Some((Ok(item), cursor));
            }
            let asked = cursor.next?;
            if asked >= MAX_PAGES {
                cursor.next = None;
                let error = Error::new(
                    ErrorKind::Protocol,
                    format!("the listing did not end after {MAX_PAGES} pages; stopped reading it"),
                );
                return Some((Err(error), cursor));
            }
            let page = match (cursor.fetch)(asked).await {
                Ok(page) => page,
                Err(error) => {
                    cursor.next = None;
                    return Some((Err(error), cursor));
                }
            };
            let ignored_paging = page.number.is_some_and(|number| number != u64::from(asked))
                || cursor.previous.as_ref() == Some(&page.content);
            if ignored_paging {
                tracing::warn!(page = asked, "the listing ignored the page asked for; stopping after what was read");
                cursor.next = None;
                if asked > 0 {
                    continue;
                }
            } else {
                cursor.next = page.has_next().then_some(asked + 1);
            }
            cursor.previous = Some(page.content.clone());
            cursor.ready.extend(page.content);
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use futures_util::TryStreamExt;

    use super::*;

    fn page(items: &[u32], number: Option<u64>, last: Option<bool>) -> Page<u32> {
        let mut page = Page::new(items.to_vec());
        page.number = number;
        page.last = last;
        page
    }

    async fn collect(
        pages: impl Fn(u32) -> Result<Page<u32>, Error> + Send + Sync + 'static,
    ) -> (Result<Vec<u32>, Error>, u32) {
        let asked = Arc::new(AtomicU32::new(0));
        let counter = asked.clone();
        let pages = Arc::new(pages);
        let items = every_item(move |n| {
            counter.fetch_add(1, Ordering::Relaxed);
            let pages = pages.clone();
            async move { pages(n) }
        })
        .try_collect()
        .await;
        (items, asked.load(Ordering::Relaxed))
    }

    #[tokio::test]
    async fn pages_are_followed_to_the_last() {
        let (items, asked) = collect(|n| Ok(page(&[n * 10, n * 10 + 1], Some(n.into()), Some(n == 2)))).await;
        assert_eq!(items.unwrap(), [0, 1, 10, 11, 20, 21]);
        assert_eq!(asked, 3);
        let (items, asked) = collect(|n| Ok(page(&[n][..usize::from(n < 2)], None, None))).await;
        assert_eq!((items.unwrap(), asked), (vec![0, 1], 3), "without counters an empty page ends it");
    }

    #[tokio::test]
    async fn a_server_that_ignores_paging_is_not_followed_forever() {
        let (items, asked) = collect(|_| Ok(page(&[1, 2], Some(0), Some(false)))).await;
        assert_eq!((items.unwrap(), asked), (vec![1, 2], 2), "page 1 came back as page 0");
        let (items, asked) = collect(|_| Ok(page(&[1, 2], None, None))).await;
        assert_eq!((items.unwrap(), asked), (vec![1, 2], 2), "the same content twice");
        let (items, asked) = collect(|n| Ok(page(&[n], None, None))).await;
        assert_eq!(items.unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(asked, MAX_PAGES);
    }

    #[tokio::test]
    async fn a_failed_page_ends_the_listing_with_its_error() {
        let (items, asked) = collect(|n| match n {
            0 => Ok(page(&[1], Some(0), Some(false))),
            _ => Err(Error::new(ErrorKind::Unavailable, "down")),
        })
        .await;
        assert_eq!((items.unwrap_err().kind(), asked), (ErrorKind::Unavailable, 2));
    }
}

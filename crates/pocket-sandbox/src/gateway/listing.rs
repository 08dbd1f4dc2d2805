//! The gateway's listings: the merchant's branches and a branch's terminals, as Spring pages.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::{BRANCHES, bad, branches_of, caller};
use crate::reply::{SpringError, SpringFailure, spring_error};
use crate::state::Shared;

/// Spring's paging parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct PageQuery {
    /// The page, from 0.
    #[param(minimum = 0, maximum = 2_147_483_647)]
    page: Option<u32>,
    /// Items per page (default 20); at most the sandbox's page size limit (default 20) are
    /// answered, whatever is asked.
    #[param(minimum = 1, maximum = 2_147_483_647)]
    size: Option<u32>,
}

/// The page and size asked for: whole numbers within a Java `int` (size at least 1), or 400.
fn paging(query: &HashMap<String, String>, path: &str) -> Result<(usize, usize), SpringFailure> {
    let read = |name: &str, least: u32| match query.get(name) {
        None => Ok(None),
        Some(value) => match value.parse::<u32>() {
            Ok(n) if n >= least && n <= 2_147_483_647 => Ok(Some(n as usize)),
            _ => Err(bad(format!("{name} must be a whole number from {least} to 2147483647"), path)),
        },
    };
    Ok((read("page", 0)?.unwrap_or(0), read("size", 1)?.unwrap_or(20)))
}

/// One Spring page of `items`, as asked (the size capped by the sandbox's limit).
fn spring_page<T: Serialize>(shared: &Shared, items: &[T], (number, size): (usize, usize)) -> Value {
    let size = size.min(shared.config().page_size_limit as usize);
    let content: Vec<&T> = items.iter().skip(number.saturating_mul(size)).take(size).collect();
    let total_pages = items.len().div_ceil(size);
    json!({
        "content": content,
        "pageable": {"pageNumber": number, "pageSize": size, "offset": number * size, "paged": true, "unpaged": false},
        "totalElements": items.len(),
        "totalPages": total_pages,
        "number": number,
        "size": size,
        "numberOfElements": content.len(),
        "first": number == 0,
        "last": number + 1 >= total_pages,
        "empty": content.is_empty(),
    })
}

/// The merchant's branches, as a Spring page.
#[utoipa::path(
    get,
    path = "/merchant/payment-gateway/branch/list",
    tag = "gateway",
    security(("merchant_token" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A Spring page of `{id, name, address, accountNumber, merchantId}`", body = Object),
        (status = 400, description = "page or size is not a whole number in range", body = SpringError),
        (status = 401, description = "Missing, expired or revoked merchant token", body = SpringError),
    )
)]
pub(crate) async fn branches(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, SpringFailure> {
    let client_id = caller(&shared, &headers, BRANCHES)?;
    let asked = paging(&query, BRANCHES)?;
    let items: Vec<Value> = branches_of(&shared, &client_id)
        .iter()
        .map(|branch| {
            json!({"id": branch.id, "name": branch.name, "address": branch.address,
                   "accountNumber": branch.account_number, "merchantId": client_id})
        })
        .collect();
    Ok(Json(spring_page(&shared, &items, asked)))
}

/// A branch's terminals, as a Spring page.
#[utoipa::path(
    get,
    path = "/merchant/payment-gateway/terminal/list/{branch_id}",
    tag = "gateway",
    security(("merchant_token" = [])),
    params(("branch_id" = u64, Path, description = "One of the merchant's branches"), PageQuery),
    responses(
        (status = 200, description = "A Spring page of `{id, name, branchId}`", body = Object),
        (status = 400, description = "page or size is not a whole number in range", body = SpringError),
        (status = 401, description = "Missing, expired or revoked merchant token", body = SpringError),
        (status = 404, description = "No such branch of this merchant", body = SpringError),
    )
)]
pub(crate) async fn terminals(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(branch_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, SpringFailure> {
    let path = format!("/merchant/payment-gateway/terminal/list/{branch_id}");
    let client_id = caller(&shared, &headers, &path)?;
    let asked = paging(&query, &path)?;
    let branch = branches_of(&shared, &client_id).iter().find(|branch| branch.id.to_string() == branch_id.trim());
    let Some(branch) = branch else {
        return Err(spring_error(StatusCode::NOT_FOUND, format!("no branch {branch_id:?}"), &path));
    };
    let items: Vec<Value> = branch
        .terminals
        .iter()
        .map(|id| json!({"id": id, "name": format!("{} — терминал {id}", branch.name), "branchId": branch.id}))
        .collect();
    Ok(Json(spring_page(&shared, &items, asked)))
}
